"""bench/pull_crm.py --smoke runs end to end and pulls what its servers hold (no time asserted)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "pull_crm.py"


def test_crm_pull_bench_smoke_pulls_every_record_of_its_servers():
    done = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    # 1,000 contacts of 1,000 companies (fewer than 2,000), 100 deals of three stage entries each
    assert "HubSpot: 1,000 contacts, 100 deals, 300 stage entries, 1,000 companies pulled in" in done.stdout
    assert "Salesforce: 1,000 leads, 100 opportunities, 300 stage entries, 1,000 accounts pulled in" in done.stdout

"""bench/pull_stripe.py --smoke runs end to end and pulls what its server holds (no time asserted)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "pull_stripe.py"


def test_pull_bench_smoke_pulls_every_object_of_its_server():
    done = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    # 200 subscriptions, one invoice of 10 lines each
    assert "synthetic Stripe server: 200 subscriptions and 2,000 invoice lines pulled in" in done.stdout

"""`python -m orchestration.lib.quality.suites_gen [--check] [--dir DIR]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.lib.quality.suites import SUITES_DIR
from orchestration.lib.quality.suites_gen.suite_files import drift, write_suites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.lib.quality.suites_gen",
        description="Write the quality suites (expectations/expectations/*.json) from the landing "
        "contract (contract.py) and the public marts' dbt ymls (the manifest).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; print each suite file that is missing, differs from the generated "
        "suite or has no target, and exit 1 if there is any",
    )
    parser.add_argument("--dir", type=Path, default=SUITES_DIR, help=f"suite directory (default: {SUITES_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        lines = drift(args.dir)
        for line in lines:
            print(line)
        if lines:
            print("Regenerate with: python -m orchestration.lib.quality.suites_gen", file=sys.stderr)
        return 1 if lines else 0
    for path in write_suites(args.dir):
        print(f"wrote {path}" if path.exists() else f"deleted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

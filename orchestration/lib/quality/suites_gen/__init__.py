"""The generator of the quality suites: the one source of expectations/expectations/*.json.

    python -m orchestration.lib.quality.suites_gen           # write every suite file
    python -m orchestration.lib.quality.suites_gen --check   # exit 1 naming each file that differs

The committed suite files are this package's output, never edited by hand:
tests/test_quality_suites.py runs `--check`, so a hand edit or a changed contract
without regenerated files fails a test naming the file.

- `source_rules.py`: the rules of each source entity that contract.py does not hold.
- `source_suites.py`: a source entity's expectations (the landing contract).
- `mart_suites.py`: a public mart's expectations (its published contract, read from
  the dbt manifest).
- `expectation_builders.py`: the expectation dicts both are made of.
- `suite_files.py`: suites as GX writes them, written or compared.
"""

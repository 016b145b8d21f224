"""The repository's own docs agree with the code they explain.

- docs/landing-contract.md lists exactly the entities and columns of
  orchestration/lib/contract.py, with their types, required flags, keys, foreign keys
  and allowed values;
- docs/metrics.md has a section for every public mart of the dbt manifest, with its
  grain and exactly its columns in the yml's order;
- the settings tables of docs/architecture.md and README.md list exactly the settings of
  orchestration/settings.py, and every default the docs write as a literal is its default;
- every relative link of README.md and docs/*.md resolves (file and #anchor), and every
  repository path they name in backticks exists;
- nothing in the repository cites the specification files that live outside it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME, Entity
from orchestration.lib.dbt_manifest import public_marts
from orchestration.settings import PROJECT_ROOT, SETTINGS

DOCS_DIR = PROJECT_ROOT / "docs"
LANDING_CONTRACT = DOCS_DIR / "landing-contract.md"
METRICS = DOCS_DIR / "metrics.md"
CONTRACT_HEADER = ("column", "type", "required", "meaning")
MART_HEADER = ("column", "meaning")


# -- reading markdown -------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str  # the heading's text, as written
    body: list[str]  # the lines up to the next heading of any level


def _without_code_blocks(lines: list[str]) -> list[str]:
    """The lines outside fenced code blocks (blank lines in their place)."""
    kept, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            kept.append("")
        else:
            kept.append("" if fenced else line)
    return kept


def sections(path: Path) -> list[Section]:
    out: list[Section] = []
    for line in _without_code_blocks(path.read_text().splitlines()):
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            out.append(Section(heading.group(1).strip(), []))
        elif out:
            out[-1].body.append(line)
    return out


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def table(section: Section, header: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The rows of the section's first table with this header (none: an empty list)."""
    lines = section.body
    for i, line in enumerate(lines):
        if line.startswith("|") and _cells(line) == header:
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return rows
    return []


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link markup and punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for section in sections(path):
        base = slug(section.title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def test_slug_follows_github() -> None:
    assert slug("`marts.commercial_ratio`") == "martscommercial_ratio"
    assert slug("What blocks publishing, what only warns") == "what-blocks-publishing-what-only-warns"
    assert slug("config/stage_mapping") == "configstage_mapping"
    assert slug("Run it [locally](x.md)") == "run-it-locally"


# -- the landing contract -----------------------------------------------------------


def _contract_sections() -> dict[str, Section]:
    return {s.title: s for s in sections(LANDING_CONTRACT) if table(s, CONTRACT_HEADER)}


def test_the_landing_contract_documents_exactly_the_entities_of_contract_py() -> None:
    documented = set(_contract_sections())
    expected = {entity.folder for entity in ENTITIES_BY_NAME.values()}
    assert documented - expected == set(), "documented entities that contract.py does not have"
    assert expected - documented == set(), "contract.py entities missing from docs/landing-contract.md"


@pytest.mark.parametrize("entity", ENTITIES_BY_NAME.values(), ids=lambda e: e.qualified_name)
def test_the_landing_contract_table_equals_contract_py(entity: Entity) -> None:
    section = _contract_sections()[entity.folder]
    rows = table(section, CONTRACT_HEADER)
    documented = [(name, type_, required == "yes") for name, type_, required, _ in rows]
    expected = [(c.name, c.type, c.required) for c in entity.columns]
    assert documented == expected, f"{entity.folder}: (column, type, required) differ from contract.py"
    assert all(required in ("yes", "") for _, _, required, _ in rows), "required is `yes` or empty"
    assert all(meaning for *_, meaning in rows), f"{entity.folder}: a column has no meaning"


@pytest.mark.parametrize("entity", ENTITIES_BY_NAME.values(), ids=lambda e: e.qualified_name)
def test_the_landing_contract_states_each_entitys_key(entity: Entity) -> None:
    body = "\n".join(_contract_sections()[entity.folder].body)
    key = re.search(r"^\*\*Key:\*\* (.+)$", body, re.MULTILINE)
    assert key, f"{entity.folder}: no **Key:** line"
    documented = re.findall(r"`([^`]+)`", key.group(1))
    assert tuple(documented) == entity.key
    assert ("no primary key" in key.group(1)) == (not entity.has_primary_key)


@pytest.mark.parametrize("entity", ENTITIES_BY_NAME.values(), ids=lambda e: e.qualified_name)
def test_the_landing_contract_states_foreign_keys_and_allowed_values(entity: Entity) -> None:
    meanings = {row[0]: row[3] for row in table(_contract_sections()[entity.folder], CONTRACT_HEADER)}
    foreign_keys = {fk.column: fk for fk in entity.foreign_keys}
    for column, meaning in meanings.items():
        named = re.findall(r"FK `([^`]+)`", meaning)
        fk = foreign_keys.get(column)
        assert named == ([ENTITIES_BY_NAME[fk.entity].folder] if fk else []), f"{entity.folder}.{column}"
        if fk:
            effect = "blocks publishing" if fk.blocking else "warning"
            assert effect in meaning, f"{entity.folder}.{column}: must say what an unknown key does: {effect!r}"
    for column, values in entity.allowed_values.items():
        listed = re.findall(r"`([^`]+)`", meanings[column].split("One of", 1)[-1])
        assert tuple(listed) == values, f"{entity.folder}.{column}: allowed values differ"


def test_the_landing_contract_says_how_to_write_every_contract_type() -> None:
    values = next(s for s in sections(LANDING_CONTRACT) if s.title == "Values")
    assert [row[0] for row in table(values, ("type", "how to write it"))] == list(DUCKDB_TYPES)


def test_the_landing_contract_marks_exactly_the_optional_entities() -> None:
    sections_by_folder = _contract_sections()
    for entity in ENTITIES_BY_NAME.values():
        says_optional = "**Optional:**" in "\n".join(sections_by_folder[entity.folder].body)
        assert says_optional == entity.optional, entity.folder


# -- the metrics ----------------------------------------------------------------------


def _mart_sections() -> dict[str, Section]:
    out = {}
    for section in sections(METRICS):
        name = re.fullmatch(r"`marts\.(\w+)`", section.title)
        if name:
            out[name.group(1)] = section
    return out


def test_metrics_has_a_section_for_exactly_the_public_marts() -> None:
    documented, public = set(_mart_sections()), set(public_marts())
    assert public - documented == set(), "public marts without a `marts.<name>` section in docs/metrics.md"
    assert documented - public == set(), "sections of docs/metrics.md for marts that are not public"


def _grain(section: Section) -> tuple[str, ...] | None:
    grain = re.search(r"\*\*Grain:\*\* one row per \(?((?:`\w+`(?:, )?)+)", " ".join(section.body))
    return tuple(re.findall(r"`(\w+)`", grain.group(1))) if grain else None


def test_metrics_states_each_public_marts_grain_and_its_columns_in_yml_order() -> None:
    """Read from the manifest, so a mart or column added without docs fails here."""
    documented = _mart_sections()
    problems = []
    for name, mart in public_marts().items():
        section = documented.get(name)
        if section is None:
            continue  # reported by the test above
        rows = table(section, MART_HEADER)
        if tuple(column for column, _ in rows) != mart.column_names:
            problems.append(
                f"marts.{name}: the `| column | meaning |` table lists {[c for c, _ in rows]}, "
                f"the mart has {list(mart.column_names)}"
            )
        if not all(meaning for _, meaning in rows):
            problems.append(f"marts.{name}: a column has no meaning")
        if _grain(section) != mart.grain:
            problems.append(f"marts.{name}: **Grain:** says {_grain(section)}, the grain test {mart.grain}")
    assert problems == []


# -- the settings ----------------------------------------------------------------------

SETTINGS_TABLES = [("docs/architecture.md", "Settings"), ("README.md", "Settings")]


def _documented_defaults(path: Path) -> dict[str, str]:
    """{variable: default cell} of every `| variable | default | ... |` table of the file;
    a row naming two variables (`A` / `B`) has two defaults (`a` / `b`)."""
    out = {}
    for section in sections(path):
        lines = section.body
        for i, line in enumerate(lines):
            if not (line.startswith("|") and _cells(line)[:2] == ("variable", "default")):
                continue
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                variables, defaults = _cells(row)[0].split(" / "), _cells(row)[1].split(" / ")
                for variable, default in zip(variables, defaults, strict=True):
                    out[variable.strip("`")] = default
    return out


def _default_as_written(default: str) -> str:
    """A setting's default text as the docs write it: paths relative to the repository."""
    path = Path(default)
    return str(path.relative_to(PROJECT_ROOT)) if path.is_absolute() and path.is_relative_to(PROJECT_ROOT) else default


@pytest.mark.parametrize(("doc", "title"), SETTINGS_TABLES)
def test_the_settings_tables_list_exactly_the_settings(doc: str, title: str) -> None:
    section = next(s for s in sections(PROJECT_ROOT / doc) if s.title == title)
    rows = table(section, ("variable", "default", "meaning"))
    documented = [variable for row in rows for variable in re.findall(r"`(GTM_\w+)`", row[0])]
    assert sorted(documented) == sorted(setting.env_var for setting in SETTINGS)


@pytest.mark.parametrize("doc", ["docs/architecture.md", "docs/metrics.md", "README.md"])
def test_every_fixed_default_in_the_docs_is_the_settings_default(doc: str) -> None:
    """Defaults written as a literal (`90`) must be settings.py's; computed ones (today,
    the CPU count) are described in words and not compared."""
    by_variable = {setting.env_var: setting for setting in SETTINGS}
    wrong = []
    for variable, cell in _documented_defaults(PROJECT_ROOT / doc).items():
        literal = re.fullmatch(r"`([^`]*)`", cell)
        if literal is None:
            continue
        expected = _default_as_written(by_variable[variable].default())
        if literal.group(1) != expected:
            wrong.append(f"{variable}: {literal.group(1)!r}, settings.py says {expected!r}")
    assert wrong == []


# -- links and named paths --------------------------------------------------------------

LINKED_FILES = [PROJECT_ROOT / "README.md", *sorted(DOCS_DIR.glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_INLINE_CODE = re.compile(r"`[^`]*`")
# A path of the repository in backticks; placeholders (`<area>`) and globs are skipped.
_NAMED_PATH = re.compile(r"`((?:orchestration|dbt_project|tests|bench|expectations|docs)/[^`\s<>*{}]*)`")


def _links(path: Path) -> list[str]:
    text = "\n".join(_without_code_blocks(path.read_text().splitlines()))
    return _LINK.findall(_INLINE_CODE.sub("", text))


@pytest.mark.parametrize("path", LINKED_FILES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for link in _links(path):
        if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        if not resolved.exists():
            broken.append(f"{link}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{link}: no heading #{anchor}")
    assert broken == []


@pytest.mark.parametrize("path", LINKED_FILES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_repository_path_named_exists(path: Path) -> None:
    text = "\n".join(_without_code_blocks(path.read_text().splitlines()))
    missing = sorted({p for p in _NAMED_PATH.findall(text) if not (PROJECT_ROOT / p).exists()})
    assert missing == []


def test_the_documents_are_linked_from_the_readme_and_the_docs_index() -> None:
    readme_links = {link.partition("#")[0] for link in _links(PROJECT_ROOT / "README.md")}
    index_links = {link.partition("#")[0] for link in _links(DOCS_DIR / "README.md")}
    for doc in sorted(DOCS_DIR.glob("*.md")):
        if doc.name != "README.md":
            assert f"docs/{doc.name}" in readme_links, f"README.md does not link docs/{doc.name}"
            assert doc.name in index_links, f"docs/README.md does not link {doc.name}"


# -- nothing cites documents outside the repository -------------------------------------

OUTSIDE_DOCUMENTS = ("SOURCES.md", "METRICS.md", "ARCHITECTURE.md")
# Files that name those documents only to state this rule.
ABOUT_THIS_RULE = {"tests/test_docs.py"}


def test_no_file_cites_the_specification_documents_outside_the_repository() -> None:
    """LEAD: fails until the references in files outside the docs helper's scope are
    swept (dbt models and ymls, expectations, code). List them with
    `git grep -n -e SOURCES.md -e METRICS.md -e ARCHITECTURE.md`; point each at
    docs/landing-contract.md, docs/metrics.md or docs/architecture.md."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    citing = []
    for name in sorted(f for f in files if f and f not in ABOUT_THIS_RULE):
        path = PROJECT_ROOT / name
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        citing += [f"{name}: {doc}" for doc in OUTSIDE_DOCUMENTS if doc in text]
    assert citing == []

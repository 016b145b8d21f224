"""GX's Data Docs views, with their Jinja templates compiled once per process.

GX builds a new Jinja environment for every view of every Data Docs build (the
validation pages' view and the index's view, twice per refresh: one build per gate
step), and each environment compiles the templates it renders again (~40 templates,
~0.08 s of CPU). These views are GX's own (`DefaultJinjaPageView`,
`DefaultJinjaIndexPageView`: same templates, same filters, same HTML) with one
process-wide Jinja bytecode cache, so the second build of a refresh reuses the first
one's compiled templates. The cache is keyed by template name and source checksum
(Jinja's own `Bucket`), so a changed template is compiled anew. Only imported by GX,
from the site configuration in `runtime.ephemeral_context`.
"""

from __future__ import annotations

from typing import Any

import jinja2
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


COMPILED_TEMPLATES = _CompiledTemplates()


class PageView(DefaultJinjaPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = COMPILED_TEMPLATES


class IndexPageView(DefaultJinjaIndexPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = COMPILED_TEMPLATES

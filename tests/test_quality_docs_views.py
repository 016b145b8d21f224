"""Data Docs views compile each Jinja template once per process (lib/quality/docs_views.py)."""

from orchestration.lib.quality.runtime import import_gx


def test_a_second_view_reuses_the_first_ones_compiled_templates(monkeypatch):
    import_gx()
    import jinja2

    from orchestration.lib.quality import docs_views

    docs_views.COMPILED_TEMPLATES.clear()
    compiled = []
    real_compile = jinja2.Environment.compile

    def compile_(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return real_compile(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_)
    first = docs_views.PageView().env.get_template("page.j2")
    assert compiled == ["page.j2"]  # compiled by the first view...
    second = docs_views.IndexPageView().env.get_template("page.j2")
    assert compiled == ["page.j2"]  # ...and not again by another view, in another environment
    assert first is not second
    assert first.root_render_func.__code__.co_code == second.root_render_func.__code__.co_code

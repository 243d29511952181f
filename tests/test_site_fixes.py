"""_ext/site_fixes.py's third fix, on its own: a changed file of the book's _static marks every
page outdated (Sphinx alone would leave the old copy in the site when no page changed)."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

from site_fixes import _rebuild_when_a_static_file_changed as outdated  # noqa: E402


def app_and_env(tmp_path: Path, copied: str | None) -> tuple[SimpleNamespace, SimpleNamespace]:
    (tmp_path / "_static").mkdir(parents=True)
    (tmp_path / "_static" / "book.css").write_text("a { color: red }", encoding="utf-8")
    site = tmp_path / "_build" / "html" / "_static"
    site.mkdir(parents=True)
    if copied is not None:
        (site / "book.css").write_text(copied, encoding="utf-8")
    app = SimpleNamespace(builder=SimpleNamespace(format="html"), outdir=str(site.parent),
                          confdir=str(tmp_path),
                          config=SimpleNamespace(html_static_path=["_static", "/elsewhere"]))
    return app, SimpleNamespace(found_docs={"index", "chapters/norms"})


def test_a_changed_or_missing_static_file_rebuilds_every_page(tmp_path):
    app, env = app_and_env(tmp_path, copied="a { color: blue }")
    assert outdated(app, env, set(), set(), set()) == ["chapters/norms", "index"]
    app, env = app_and_env(tmp_path / "missing", copied=None)
    assert outdated(app, env, set(), set(), set()) == ["chapters/norms", "index"]


def test_an_unchanged_static_file_rebuilds_nothing(tmp_path):
    app, env = app_and_env(tmp_path, copied="a { color: red }")
    assert outdated(app, env, set(), set(), set()) == []

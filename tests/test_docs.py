"""Every Python code block of the documentation site runs, page by page, in order.

The blocks of one page share a namespace (a tutorial builds on its earlier blocks) and run
in a fresh working folder. A block is exempt only through an explicit marker on the line
right before its fence, ``<!-- no-test: <reason> -->``: shell commands, and code that
needs a GPU (reason ``gpu``) or several processes. Shell blocks (bash, console, text)
never run; an unmarked ``bash`` block is an error, so nothing is exempt by accident.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(
    r"(?P<marker><!-- no-test: (?P<reason>[^>]*?) -->\n[ \t]*)?"
    r"```(?P<lang>[a-z]*)[^\n]*\n(?P<code>.*?)```",
    re.S,
)
RUNNABLE = {"python", "py"}


def _blocks(page: Path) -> list[tuple[str, str, str | None]]:
    """(language, code, exemption reason or None) of every fenced block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(m["lang"], m["code"], m["reason"]) for m in FENCE.finditer(text)]


PAGES = sorted(DOCS.rglob("*.md"))
# Pages of prose only are not collected here (nothing to run), rather than skipped.
CODE_PAGES = [p for p in PAGES if any(lang in RUNNABLE and r is None for lang, _, r in _blocks(p))]


@pytest.mark.parametrize("page", CODE_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_runs(page: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # blocks may write results/, weight files, plots
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    for i, (lang, code, reason) in enumerate(_blocks(page)):
        if reason is not None:
            continue
        assert lang in RUNNABLE | {"", "text", "toml", "yaml", "json"}, (
            f"{page.name} block {i} is {lang!r}: mark it <!-- no-test: shell --> or make it "
            f"Python"
        )
        if lang in RUNNABLE:
            exec(compile(code, f"{page.relative_to(ROOT)}[block {i}]", "exec"), namespace)
            ran += 1
    assert ran > 0


def test_exemptions_name_a_reason() -> None:
    for page in PAGES:
        for _, _, reason in _blocks(page):
            if reason is not None:
                assert reason.strip(), f"{page.name}: an empty no-test reason"

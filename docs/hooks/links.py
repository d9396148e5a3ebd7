"""MkDocs hook: links in the Markdown files that the site includes with snippets work on the site.

The package pages (``docs/packages/*.md``) and some sections of other pages are the packages'
READMEs and the workspace README, included with ``--8<-- "path.md"``. Their relative links are
written for the repository (and PyPI): ``../../README.md``, ``../dezero-dist/README.md#stops``,
``docs/plot.png``, ``packages/dezero-compat``. On the site such a link must point at the page
that shows that file, or at a copy of the file the site serves. This hook rewrites them; the
READMEs stay as they are.

How: ``on_page_markdown`` wraps every Markdown include line of a page in two marker comments
naming the included file and the page. pymdownx.snippets expands the include as usual; a
Markdown preprocessor that runs right after it rewrites the links between the markers,
resolving each against the included file's folder in the repository, and drops the markers.
A target is rewritten to:

- the site page that includes that whole file (``--8<-- "packages/dezero-dist/README.md"`` in
  ``docs/packages/dist.md``), or its counterpart in ``COUNTERPARTS``; a folder means its
  README.md; the anchor is kept (MkDocs checks that the page has it);
- the file itself when it lies in ``docs/``;
- any other existing file (an image in a package's ``docs/`` folder): a copy served under
  ``ASSETS/<its path in the repository>``, added to the site's files in ``on_files``.

Anything else is left as written, so MkDocs' link validation (``validation:`` in mkdocs.yml,
errors under ``--strict``) reports it. Links inside fenced code blocks are not touched.
Markdown files included by an included file are rewritten as if they were the outer one.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

# Repository files that no page includes whole but that have a counterpart page on the site.
COUNTERPARTS = {"README.md": "index.md"}
# Where the site serves the other repository files that included Markdown links to.
ASSETS = "assets/repo"

# `--8<-- "path.md"` or `--8<-- "path.md:section"`, alone on its line (pymdownx.snippets).
INCLUDE = re.compile(
    r'^(?P<space>[ \t]*)-+8<-+[ \t]+"(?P<path>[^"\n]+?\.md)(?::(?P<section>[\w-]+))?"$'
)
BEGIN = re.compile(r"^[ \t]*<!-- doclinks:begin (?P<origin>\S+) (?P<page>\S+) -->$")
END = re.compile(r"^[ \t]*<!-- doclinks:end -->$")
# `](target)` or `](target "title")` of an inline link or image; `[label]: target` definitions.
INLINE = re.compile(r'(?P<pre>\]\(\s*<?)(?P<target>[^)\s>]+)(?P<post>>?(?:\s+"[^"]*")?\s*\))')
DEFINITION = re.compile(r"^(?P<pre>[ \t]{0,3}\[[^\]]+\]:[ \t]*<?)(?P<target>[^\s>]+)(?P<post>.*)$")
FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class _Site:
    """What the rewriting needs to know about the repository and the site (set in on_files)."""

    root = Path()
    docs = Path()
    pages: dict[str, str] = {}  # repository path of a whole-included file -> its page's src_uri


def _in_code(lines: list[str]) -> list[bool]:
    """For each line: whether it is a fence line or inside a fenced code block."""
    flags, fence = [], None
    for line in lines:
        m = FENCE.match(line)
        if m and fence is None:
            fence = m["fence"]
        elif m and m["fence"].startswith(fence):
            flags.append(True)
            fence = None
            continue
        flags.append(fence is not None)
    return flags


def _targets(lines: list[str]):
    """Every link target match outside fenced code blocks."""
    for line, code in zip(lines, _in_code(lines)):
        if not code:
            for pattern in (INLINE, DEFINITION):
                yield from pattern.finditer(line)


def _resolve(target: str, origin: str) -> tuple[str, str, str] | None:
    """(kind, path, anchor) of ``target`` written in repository file ``origin``, or None.

    kind is "page" (path: a page's src_uri), "doc" (a file in docs/, docs-relative) or "asset"
    (any other existing file, repository-relative); None leaves the link as it is.
    """
    if not target or target.startswith(("#", "/")) or SCHEME.match(target):
        return None
    path, _, anchor = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), unquote(path)))
    if resolved.startswith("../") or resolved == "..":
        return None
    if (_Site.root / resolved).is_dir() and (_Site.root / resolved / "README.md").is_file():
        resolved = posixpath.join(resolved, "README.md")
    page = _Site.pages.get(resolved) or COUNTERPARTS.get(resolved)
    if page is not None:
        return "page", page, anchor
    docs = _Site.docs.relative_to(_Site.root).as_posix()
    if resolved.startswith(docs + "/"):
        return "doc", resolved[len(docs) + 1 :], anchor
    if (_Site.root / resolved).is_file() and not resolved.endswith(".md"):
        return "asset", resolved, anchor
    return None


def _rewrite(line: str, origin: str, page: str) -> str:
    def repl(m: re.Match[str]) -> str:
        found = _resolve(m["target"], origin)
        if found is None:
            return m.group(0)
        kind, path, anchor = found
        site_path = posixpath.join(ASSETS, path) if kind == "asset" else path
        new = posixpath.relpath(site_path, posixpath.dirname(page) or ".")
        return m["pre"] + new + (f"#{anchor}" if anchor else "") + m["post"]

    line = INLINE.sub(repl, line)
    return DEFINITION.sub(repl, line)


class _RewriteIncluded(Preprocessor):
    """Rewrites the links between the marker lines; runs right after pymdownx.snippets (32)."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        stack: list[tuple[str, str]] = []  # (included file, page) of the open markers
        for line, code in zip(lines, _in_code(lines)):
            if begin := BEGIN.match(line):
                stack.append((begin["origin"], begin["page"]))
            elif END.match(line) and stack:
                stack.pop()
            else:
                out.append(_rewrite(line, *stack[-1]) if stack and not code else line)
        return out


class _Extension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(_RewriteIncluded(md), "dezero_doclinks", 31.5)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    config.markdown_extensions.append(_Extension())  # type: ignore[arg-type]
    return config


def _includes(docs: Path) -> list[tuple[str, str, str | None]]:
    """(page src_uri, included repository path, section or None) of every Markdown include."""
    found = []
    for page in sorted(docs.rglob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            if m := INCLUDE.match(line):
                found.append((page.relative_to(docs).as_posix(), m["path"], m["section"]))
    return found


def on_files(files: Files, config: MkDocsConfig) -> Files:
    _Site.docs = Path(config.docs_dir).resolve()
    _Site.root = Path(config.config_file_path).resolve().parent
    includes = _includes(_Site.docs)
    _Site.pages = {path: page for page, path, section in includes if section is None}
    served = set()
    for _, origin, _ in includes:
        if not (_Site.root / origin).is_file():
            continue  # pymdownx.snippets (check_paths) reports it
        text = (_Site.root / origin).read_text(encoding="utf-8").splitlines()
        for m in _targets(text):
            found = _resolve(m["target"], origin)
            if found is not None and found[0] == "asset" and found[1] not in served:
                served.add(found[1])
                src = posixpath.join(ASSETS, found[1])
                files.append(File.generated(config, src, abs_src_path=str(_Site.root / found[1])))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    out = []
    for line in markdown.split("\n"):
        m = INCLUDE.match(line)
        if m is None:
            out.append(line)
            continue
        space, origin = m["space"], m["path"]
        out += [
            f"{space}<!-- doclinks:begin {origin} {page.file.src_uri} -->",
            line,
            f"{space}<!-- doclinks:end -->",
        ]
    return "\n".join(out)

"""Fail the build when a page would fetch anything from another host.

Every ``src``/``href`` of a ``<script>``, ``<link>``, ``<img>``, ``<iframe>``, ``<source>`` or
``<video>`` tag in the built HTML, and every ``url(...)``/``@import`` in its CSS, must point into
the site. Links a reader may click (``<a href>``) are not fetched and are allowed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scanner itself needs no Sphinx (tests/docs/test_offline_check.py)
    from sphinx.application import Sphinx

FETCHING_TAGS = {"script", "link", "img", "iframe", "source", "video", "audio", "embed", "object"}
REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_REMOTE = re.compile(r"(url\(\s*['\"]?|@import\s+['\"])\s*(https?:)?//", re.IGNORECASE)


class _Fetches(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in FETCHING_TAGS:
            return
        for name, value in attrs:
            if name in ("src", "href", "data", "srcset") and value and REMOTE.match(value):
                self.remote.append(f"<{tag} {name}={value!r}>")


def remote_fetches(outdir: Path) -> list[str]:
    """Every reference in the built site that a browser would fetch from another host."""
    found = []
    for page in sorted(outdir.rglob("*.html")):
        parser = _Fetches()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [f"{page.relative_to(outdir)}: {ref}" for ref in parser.remote]
    for sheet in sorted(outdir.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        found += [f"{sheet.relative_to(outdir)}: {m.group(0)}" for m in CSS_REMOTE.finditer(text)]
    return found


def _check(app: Sphinx, exc: Exception | None) -> None:
    from sphinx.errors import ExtensionError

    if exc is not None or app.builder.format != "html":
        return
    found = remote_fetches(Path(app.outdir))
    if found:
        raise ExtensionError("pages fetch from other hosts:\n  " + "\n  ".join(found[:20]))


def setup(app: Sphinx) -> dict[str, object]:
    # after sphinx-mathjax-offline has copied its files (a later priority runs later)
    app.connect("build-finished", _check, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

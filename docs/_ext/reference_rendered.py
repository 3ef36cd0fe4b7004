"""Fail the build when an API reference entry does not come out as a documented object.

MyST reads whatever a directive writes as Markdown, so an autodoc directive written straight
into a Markdown page leaves its reStructuredText on the page as text (``.. py:class::``,
``:Parameters:``) and Sphinx warns about nothing. The reference pages therefore wrap every
autodoc directive in ``{eval-rst}``, and this check proves each one rendered: the built page
has the object's anchor and none of the raw markers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scanner itself needs no Sphinx (tests/docs/test_reference_rendered.py)
    from sphinx.application import Sphinx

DIRECTIVE = re.compile(r"^\.\. auto(class|function|exception|module|data)::\s+(\S+)", re.M)
RAW_MARKERS = (".. py:", ".. auto", ":Parameters:", "processed by numpydoc")


def unrendered(source_pages: list[Path], built: Path) -> list[str]:
    """Each reference entry of ``source_pages`` missing from its page under ``built``."""
    problems = []
    for page in source_pages:
        html_file = built / page.with_suffix(".html").name
        html = html_file.read_text(encoding="utf-8") if html_file.exists() else ""
        problems += [
            f"{html_file.name}: raw {marker!r} on the page" for marker in RAW_MARKERS if marker in html
        ]
        for kind, target in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            anchor = f'id="module-{target}"' if kind == "module" else f'id="{target}"'
            if anchor not in html:
                problems.append(f"{html_file.name}: {target} did not render")
    return problems


def _check(app: Sphinx, exc: Exception | None) -> None:
    from sphinx.errors import ExtensionError

    if exc is not None or app.builder.format != "html":
        return
    pages = sorted((Path(app.srcdir) / "api").glob("*.md"))
    problems = unrendered(pages, Path(app.outdir) / "api")
    if problems:
        raise ExtensionError("API reference entries not rendered:\n  " + "\n  ".join(problems[:20]))


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

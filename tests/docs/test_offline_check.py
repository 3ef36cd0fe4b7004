"""The docs build's offline check finds every reference a browser would fetch from elsewhere."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))

from offline import remote_fetches


def test_remote_scripts_styles_fonts_and_images_are_found(tmp_path):
    (tmp_path / "page.html").write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">'
        '<script src="_static/local.js"></script></head>'
        '<body><img src="http://example.org/a.png">'
        '<a href="https://www.sphinx-doc.org">a link</a></body></html>'
    )
    (tmp_path / "theme.css").write_text(
        "@font-face { src: url('https://fonts.gstatic.com/x.woff2') } body { background: url(img/x.png) }\n"
        '@import "https://example.org/more.css";'
    )
    found = remote_fetches(tmp_path)
    assert len(found) == 5, found
    assert any("cdn.jsdelivr.net" in f for f in found)
    assert not any("sphinx-doc.org" in f or "local.js" in f or "img/x.png" in f for f in found)


def test_a_site_served_from_itself_passes(tmp_path):
    (tmp_path / "index.html").write_text(
        '<script defer src="_static/mathjax/tex-chtml.js"></script>'
        '<link href="_static/a.css" rel="stylesheet">'
    )
    (tmp_path / "a.css").write_text("@font-face { src: url(fonts/x.woff2) }")
    assert remote_fetches(tmp_path) == []

"""The docs build's check that every API reference entry came out as a documented object."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))

from reference_rendered import unrendered

PAGE = """# gradstat.x

```{eval-rst}
.. autoclass:: gradstat.x.Thing
```

```{eval-rst}
.. automodule:: gradstat.x
```
"""


def test_entries_left_as_text_are_found(tmp_path):
    (tmp_path / "x.md").write_text(PAGE)
    built = tmp_path / "out"
    built.mkdir()
    # what MyST makes of an autodoc directive outside eval-rst: its rST shown as text
    (built / "x.html").write_text("<p>.. py:class:: Thing</p><p>:Parameters: <strong>a</strong></p>")
    problems = unrendered([tmp_path / "x.md"], built)
    assert any("'.. py:'" in p for p in problems) and any("':Parameters:'" in p for p in problems)
    assert any("gradstat.x.Thing did not render" in p for p in problems)
    assert any("gradstat.x did not render" in p for p in problems)


def test_a_rendered_page_passes(tmp_path):
    (tmp_path / "x.md").write_text(PAGE)
    built = tmp_path / "out"
    built.mkdir()
    (built / "x.html").write_text(
        '<section id="module-gradstat.x">'
        '<dl class="py class"><dt id="gradstat.x.Thing">Thing</dt></dl></section>'
    )
    assert unrendered([tmp_path / "x.md"], built) == []


def test_a_missing_page_is_found(tmp_path):
    (tmp_path / "x.md").write_text(PAGE)
    assert len(unrendered([tmp_path / "x.md"], tmp_path)) == 2

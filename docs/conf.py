"""Sphinx configuration: the gradstat course, API reference and "coming from" pages.

Built offline (``make docs``): MathJax comes from the ``sphinx-mathjax-offline`` package and is
copied into ``_static``; the ``offline`` extension in ``_ext`` fails the build when a page would
load a script, style sheet, font or image from another host. The reference pages wrap each
autodoc directive in ``{eval-rst}`` (MyST would read autodoc's reStructuredText as Markdown);
``reference_rendered`` fails the build when an entry did not render.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "gradstat"
author = "the gradstat authors"
copyright = "the gradstat authors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "offline",
    "reference_rendered",
]

exclude_patterns = ["_build", "README.md", "jupyter_execute", "tools", "_ext", "**.ipynb_checkpoints"]

# MyST: $...$ and $$...$$ maths, ::: fences; every code cell of a chapter runs at build time
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "force"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_merge_streams = True
nb_execution_show_tb = True
# the notebook kernels inherit this: tqdm.auto warns "IProgress not found" (no ipywidgets, which
# would need JavaScript from outside) the first time gradstat.nn is imported, and that warning
# would be printed under the first cell of every neural-network chapter
os.environ["PYTHONWARNINGS"] = "ignore:IProgress not found"

# the MathJax files of sphinx-mathjax-offline, served from this site
mathjax_path = "mathjax/tex-chtml.js"

autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()

html_theme = "pydata_sphinx_theme"
html_title = "gradstat"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
html_favicon = "_static/favicon.svg"  # else browsers ask the server for /favicon.ico
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_sidebars = {"**": []}  # no left column: the chapters' code and tables get the width

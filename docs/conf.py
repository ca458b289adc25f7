"""Sphinx configuration of the companion's site: ``make site`` -> build/site/index.html (see README, "The book").

Sphinx + MyST-NB (the committed, executed notebooks rendered as they are: nothing is executed) + the
sphinx-book-theme (the Jupyter Book look: chapter sidebar, previous/next links), MathJax 3 served from the
site itself (sphinx-mathjax-offline), API pages by autodoc.  The generated pages (chapters with their
rerun box, the figure index, the sidebar) are written by the local extension ``_ext/minde_site.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # autodoc imports the repository's minde package

project = "MINDE companion"
author = "the minde-companion authors"
copyright = "the minde-companion authors; MINDE: Franzese, Bounoua, Michiardi (ICLR 2024)"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax: no CDN
    "minde_site",
]

root_doc = "index"
exclude_patterns = ["_build", "_ext", "_generated", "**/.ipynb_checkpoints"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_js_files = ["site.js"]

# --- notebooks: render what is committed, never execute --------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True  # one block per cell for consecutive prints
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # the default loads require.js and the widget manager from CDNs
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "attrs_inline"]
myst_heading_anchors = 3
myst_dmath_double_inline = True
# an undefined macro is a MathJax error (<mjx-merror>, which tests/test_site.py looks for), not red text
mathjax3_config = {"tex": {"packages": {"[-]": ["noundefined"]}}}

# --- API reference (the targets are listed once, in api.md) ----------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True, "no-value": True}  # no dict/tuple reprs
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --- theme ------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "MINDE companion"
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # the theme logs a console error when no mode is stored yet
html_copy_source = False  # the chapters link their source notebook instead
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": True,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {},
    "navigation_with_keys": False,
    "navbar_persistent": [],  # the sidebar has the search field; no second one in a top bar
}
pygments_style = "sphinx"

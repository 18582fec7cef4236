# Sphinx configuration for the InfiniteContext site. `python docs/build.py` (make docs) writes the source tree
# (_proc/site: the notebooks renamed to nbdev's URLs, API blocks inserted) and runs sphinx-build with `-c docs`.
import os, tomllib
from pathlib import Path

_root = Path(__file__).resolve().parents[1]
_meta = tomllib.loads((_root/"pyproject.toml").read_text())["project"]

project = "InfiniteContext"
author = "InfiniteContext"
copyright = "InfiniteContext contributors, Apache-2.0"
extensions = ["myst_nb"]                      # myst_nb brings myst_parser; Sphinx adds sphinx.ext.mathjax for HTML
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# notebooks: stored outputs only, nothing is executed at build time (GPU outputs come from the GPU box)
nb_execution_mode = "off"
nb_merge_streams = True                       # one block per cell instead of one per flush of a progress print
nb_output_stderr = "show"
nb_ipywidgets_js = {}                         # no require.js / widget manager from a CDN
nb_render_markdown_format = "myst"           # markdown outputs (the README results table) get tables, like markdown cells
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image"]
myst_dmath_double_inline = True               # $$...$$ inside a paragraph is display math too
myst_heading_anchors = 3                      # headings get GitHub-style slugs (#the-kernel) for links between pages
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]

# MathJax 3 from npm (docs/_vendor, copied to _static/mathjax by build.py): no CDN in the built pages
mathjax_path = "mathjax/tex-mml-chtml.js"
# textmacros: \_ and friends inside \texttt{...} (the lessons name code in formulas: \texttt{q\_a\_proj})
mathjax3_config = {"loader": {"load": ["[tex]/textmacros"]}, "tex": {"packages": {"[+]": ["textmacros"]}},
                   "options": {"enableMenu": False}}

html_theme = "furo"
html_title = "InfiniteContext"
html_static_path = [os.environ.get("IC_DOCS_STATIC", str(_root/"_proc"/"site"/"_static"))]
html_css_files = ["custom.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_baseurl = _meta["urls"]["Documentation"].rstrip("/") + "/"
html_theme_options = {
    "source_repository": _meta["urls"]["Repository"] + "/",
    "source_branch": "main",
    "source_directory": "nbs/",
    "navigation_with_keys": True,
}
pygments_style = "friendly"
html_favicon = str(_root/"docs"/"favicon.svg")   # browsers ask for /favicon.ico without one: a 404 in the console

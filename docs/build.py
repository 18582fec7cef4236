"""Build the InfiniteContext docs site offline: nbs/*.ipynb (stored outputs, nothing executed) -> Sphinx + myst-nb -> _docs/.

    python docs/build.py [--out _docs]      (what `make docs` runs; docs/README.md explains the choices)

Steps: every notebook in nbs/ becomes a page at nbdev's URL (`04b_training.ipynb` -> `training.html`), in file order,
`index.ipynb` the landing page; nbdev directives are applied (`#| hide` drops a cell, directive lines are not shown),
every code cell gets the anchor `#cell-N` (N = its 1-based position in the notebook), and after each `#| export` cell
the API docs of the symbols it defines (docstring + docments table) are inserted under the anchors that
`infinitecontext/_modidx.py` links (`#symbol`, `#class.method`). `infra/**/*.md` and `k8s/**/*.md` (when k8s/ exists)
become pages too; `api.html` indexes every exported symbol. Sphinx then renders it with MathJax 3 from the local copy
that `make docs` installs (docs/_vendor, npm), and every page also gets a plain-markdown twin `<page>.html.md` (the
URLs the module docstrings print). The build fails if any built page would load a resource from another host.
"""
from __future__ import annotations
import argparse, ast, copy, html, importlib, inspect, json, os, re, runpy, shutil, subprocess, sys, tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT/"docs"
NBS = ROOT/"nbs"
MATHJAX = DOCS/"_vendor"/"node_modules"/"mathjax"/"es5"   # `make docs` runs npm install mathjax@3 into docs/_vendor
GIT_URL = "https://github.com/infinitecontext/infinitecontext"
DOC_URL = "https://infinitecontext.github.io/infinitecontext"
FLAGS = ("gpu", "multigpu", "slow")                     # [tool.nbdev] tst_flags: cells CI skips, outputs stored

def page_name(nb: str | Path) -> str:
    "nbdev's page name for a notebook: numeric prefixes dropped, lower case (`04b_training.ipynb` -> `training`)."
    return re.sub(r"^\d+[a-zA-Z0-9]*_", "", Path(nb).stem.lower())

def notebooks(nbs: Path = NBS) -> list[Path]:
    "Every notebook in nbs/, landing page first, then file order (= the curriculum's order)."
    nbs_ = sorted(p for p in nbs.glob("*.ipynb") if not p.name.startswith((".", "_")))
    seen = {}
    for p in nbs_:
        n = page_name(p)
        if n in seen: raise SystemExit(f"docs: {seen[n].name} and {p.name} both become '{n}.html': rename one of them")
        seen[n] = p
    return sorted(nbs_, key=lambda p: (page_name(p) != "index", p.name))

def split_directives(src: str) -> tuple[dict, str]:
    "nbdev/Quarto `#| key value` lines at the top of a cell -> ({key: value}, the rest of the source)."
    lines, d = src.splitlines(), {}
    i = 0
    while i < len(lines) and (lines[i].startswith("#|") or not lines[i].strip()):
        if lines[i].startswith("#|"):
            k, _, v = lines[i][2:].strip().partition(" ")
            d[k.rstrip(":")] = v.strip()
        i += 1
    return d, "\n".join(lines[i:])

def load_modidx() -> dict:
    "The symbol -> URL index that nbdev-export writes (read as a file: nothing is imported)."
    return runpy.run_path(str(ROOT/"infinitecontext"/"_modidx.py"))["d"]

# --- API docs for exported symbols -------------------------------------------------------------------------------

def _esc(s) -> str: return html.escape(str(s), quote=False).replace("|", "&#124;").replace("\n", " ")   # text, not attributes

def _anno(a) -> str:
    if a is inspect.Parameter.empty or a is None: return ""
    return a if isinstance(a, str) else getattr(a, "__name__", None) or str(a).replace("typing.", "")

def _params_table(obj) -> str:
    "A docments table (parameter, type, default, the comment beside it in the source); '' when there is nothing to say."
    try:
        from fastcore.docments import docments
        ds = docments(obj, full=True)
    except Exception: return ""
    rows = []
    for k, v in ds.items():
        if k in ("self", "cls", "return") and not v.get("docment"): continue
        if v.get("anno", inspect.Parameter.empty) is inspect.Parameter.empty and not v.get("docment") \
           and v.get("default", inspect.Parameter.empty) is inspect.Parameter.empty: continue     # nothing to say
        dflt = v.get("default", inspect.Parameter.empty)
        dflt = "" if dflt is inspect.Parameter.empty else f"<code>{_esc(repr(dflt))}</code>"
        typ = _anno(v.get("anno", inspect.Parameter.empty))
        rows.append(f"<tr><td><code>{_esc(k)}</code></td><td>{'<code>'+_esc(typ)+'</code>' if typ else ''}</td>"
                    f"<td>{dflt}</td><td>{_esc(v.get('docment') or '')}</td></tr>")
    if not rows: return ""
    return ('<table class="ic-params"><thead><tr><th></th><th>type</th><th>default</th><th>details</th></tr></thead>'
            "<tbody>" + "".join(rows) + "</tbody></table>")

def symbol_html(qual: str, anchor: str, obj, level: int = 4) -> str:
    "One symbol's API block: a heading carrying nbdev's anchor, the signature, the docstring, the docments table."
    name = qual.rsplit(".", 1)[-1]
    target = obj.fget if isinstance(obj, property) else obj
    target = getattr(target, "fn", target)                 # a triton.jit function: document the Python function
    try: sig = f"{name}{inspect.signature(target)}"
    except (TypeError, ValueError): sig = name + (" (property)" if isinstance(obj, property) else "")
    sig = re.sub(r"<function (\w+) at 0x[0-9a-f]+>", r"\1", sig)
    sig = re.sub(r"(:\s|->\s)'([^']*)'", r"\1\2", sig)     # string annotations (from __future__ import annotations)
    doc = inspect.getdoc(target) or ""
    if inspect.isclass(target) and target.__doc__ is None: doc = ""
    kind = "class" if inspect.isclass(target) else ("property" if isinstance(obj, property) else "")
    parts = [f'<h{level} id="{html.escape(anchor)}" class="ic-symbol">{kind + " " if kind else ""}<code>{_esc(qual)}</code>'
             f'<a class="headerlink" href="#{html.escape(anchor)}" title="Link to this symbol">#</a></h{level}>',
             f'<pre class="ic-signature"><code>{html.escape(sig)}</code></pre>']
    if doc: parts.append('<p class="ic-doc">' + re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(doc, quote=False)) + "</p>")
    if inspect.isclass(target) and "__init__" in vars(target): parts.append(_params_table(vars(target)["__init__"]))
    elif not isinstance(obj, property): parts.append(_params_table(target))   # (docments reads a class's own __init__)
    return '<div class="ic-api">\n' + "\n".join(p for p in parts if p) + "\n</div>"

def _defined(src: str) -> list[str]:
    "Top-level names a cell defines (functions, classes; `@patch def f(self: C)` -> `C.f`), looking inside if/try."
    try: tree = ast.parse(src)
    except SyntaxError: return []
    out = []
    def walk(body):
        for n in body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                pat = [d for d in getattr(n, "decorator_list", []) if (getattr(d, "id", None) or getattr(d, "attr", None)) == "patch"]
                if pat and isinstance(n, ast.FunctionDef) and n.args.args and isinstance(n.args.args[0].annotation, ast.Name):
                    out.append(f"{n.args.args[0].annotation.id}.{n.name}")
                else: out.append(n.name)
            elif isinstance(n, (ast.If, ast.Try, ast.With)):
                walk(n.body); walk(getattr(n, "orelse", [])); walk(getattr(n, "finalbody", []))
                for h in getattr(n, "handlers", []): walk(h.body)
    walk(tree.body)
    return out

class ApiDocs:
    "Renders the symbols `_modidx.py` lists for one module, each once, under exactly the anchor it links."
    def __init__(self, module: str, modidx: dict):
        self.module, self.syms = module, {}
        for full, (url, _) in modidx["syms"].get(f"infinitecontext.{module}", {}).items():
            self.syms[full.removeprefix(f"infinitecontext.{module}.")] = url.partition("#")[2]
        self.done, self.mod, self.error = set(), None, None
        try: self.mod = importlib.import_module(f"infinitecontext.{module}")
        except Exception as e: self.error = f"{type(e).__name__}: {e}"

    def _obj(self, qual: str):
        obj = self.mod
        for part in qual.split("."):
            obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
        if isinstance(obj, (staticmethod, classmethod)): obj = obj.__func__
        return obj

    def render(self, quals: list[str]) -> str:
        "API blocks for the given top-level names and their methods; '' for names `_modidx` does not list."
        blocks = []
        for q in quals:
            for s in [q] + sorted((k for k in self.syms if k.startswith(q + ".")), key=list(self.syms).index):
                if s not in self.syms or s in self.done: continue
                self.done.add(s)
                if self.mod is None:
                    blocks.append(f'<div class="ic-api"><h4 id="{html.escape(self.syms[s])}" class="ic-symbol"><code>{_esc(s)}</code></h4>'
                                  f"<p>(the module could not be imported to read its docs: {_esc(self.error)})</p></div>")
                    continue
                try: obj = self._obj(s)
                except AttributeError: obj = None
                leaf = s.rsplit(".", 1)[-1]
                own_doc = obj is not None and (getattr(obj, "__doc__", None) or "") and leaf.startswith("__") and \
                          (inspect.getdoc(obj) or "") != (inspect.getdoc(getattr(object, leaf, None)) or "")
                if leaf.startswith("_") and not own_doc:          # private names and plain dunders: nbdev links them, shows none
                    blocks.append(f'<span id="{html.escape(self.syms[s])}" class="ic-anchor"></span>'); continue
                blocks.append(symbol_html(s, self.syms[s], obj, level=5 if "." in s else 4) if obj is not None else
                              f'<div class="ic-api"><h4 id="{html.escape(self.syms[s])}" class="ic-symbol"><code>{_esc(s)}</code></h4></div>')
        return "\n\n".join(blocks)

    def rest(self) -> list[str]: return [s for s in self.syms if s not in self.done]

# --- notebooks -> Sphinx source ----------------------------------------------------------------------------------

_LINK = re.compile(r"(\]\()([^)\s]+)(\))")

def rewrite_links(text: str, src_dir: Path, pages: dict[Path, str], here: str) -> str:
    "Markdown links to repo files: to the page that renders them (notebooks, included .md), else to the file on GitHub."
    here_dir = Path(here).parent
    def fix(m):
        tgt = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", tgt, re.I) or tgt.startswith(("#", "/")): return m.group(0)
        path, _, frag = tgt.partition("#")
        try: p = (src_dir/path).resolve()
        except (OSError, ValueError): return m.group(0)
        if not p.exists() or ROOT not in p.parents: return m.group(0)
        if p in pages:
            rel = os.path.relpath(pages[p], here_dir)
            return f"{m.group(1)}{rel}{'#' + frag if frag else ''}{m.group(3)}"
        kind = "tree" if p.is_dir() else "blob"
        return f"{m.group(1)}{GIT_URL}/{kind}/main/{p.relative_to(ROOT).as_posix()}{'#' + frag if frag else ''}{m.group(3)}"
    return _LINK.sub(fix, text)

def _local(text: str) -> str:
    "Links to the published site (README's results table) stay on this copy of the site: `.../mla.html#x` -> `mla.html#x`."
    return re.sub(r"\[([^\]]+)\]\(" + re.escape(DOC_URL) + r"/([^)\s]*)\)", r'<a href="\2">\1</a>', text)  # raw: myst
                                                                                   # would look `x.html` up as a document

def _md(src: str, tags=()) -> nbformat.NotebookNode:
    c = nbformat.v4.new_markdown_cell(src)
    if tags: c.metadata["tags"] = list(tags)
    return c

def process_notebook(path: Path, modidx: dict, pages: dict[Path, str]) -> tuple[nbformat.NotebookNode, list[str]]:
    "A lesson notebook as the site shows it; also returns the API anchors it carries."
    nb = nbformat.read(path, as_version=4)
    name = page_name(path)
    module = next((split_directives(c.source)[0].get("default_exp") for c in nb.cells if c.cell_type == "code"
                   and "default_exp" in split_directives(c.source)[0]), None)
    api = ApiDocs(module, modidx) if module else None
    cells = []
    for i, c in enumerate(nb.cells, 1):
        if c.cell_type == "markdown":
            c = copy.deepcopy(c); c.source = rewrite_links(_local(c.source), path.parent, pages, f"{name}.md")
            cells.append(c); continue
        if c.cell_type != "code": continue
        d, body = split_directives(c.source)
        if "hide" in d or d.get("include") == "false" or (not body.strip() and not c.get("outputs")): continue
        c = copy.deepcopy(c)
        c.source = body
        c["id"] = f"cell-{i}"
        tags = [t for t in c.metadata.get("tags", []) if t != "parameters"]
        if d.get("echo") == "false" or "exporti" in d: tags.append("remove-input")
        if d.get("output") == "false": tags.append("remove-output")
        if tags: c.metadata["tags"] = tags
        else: c.metadata.pop("tags", None)
        for o in c.get("outputs", []):                       # widget views need the notebook's live kernel: keep their text
            if "data" in o: o["data"].pop("application/vnd.jupyter.widget-view+json", None)
            if "text/markdown" in o.get("data", {}): o["data"]["text/markdown"] = _local(o["data"]["text/markdown"])
        c.outputs = [o for o in c.get("outputs", []) if o.get("output_type") != "display_data" or o.get("data")]
        flags = [f for f in FLAGS if f in d]
        note = (f'<span class="ic-flag">stored output of a {"/".join(flags)} run (<code>#| {" ".join(flags)}</code>): '
                f"CI skips this cell and keeps what the GPU box printed</span>") if flags else ""
        cells.append(_md(f'<div id="cell-{i}" class="ic-cell-anchor">{note}</div>'))
        cells.append(c)
        if api and ("export" in d or "exports" in d):
            blocks = api.render(_defined(body))
            if blocks: cells.append(_md(blocks))
    if api and api.rest():
        cells.append(_md("## Other exported symbols\n\nListed in the package's index, defined outside a documented export cell.\n\n"
                         + api.render(api.rest())))
    anchors = sorted(api.syms.values()) if api else []
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb, anchors

def api_page(modidx: dict, order: list[tuple[str, str]]) -> str:
    "api.md: every exported symbol of every module, linked to its documentation in the lesson that builds it."
    out = ["# API reference\n", "Every symbol the `infinitecontext` package exports, with its one-line docstring; each name links to its full "
           "documentation (signature, parameters from the docments comments) in the lesson that builds it.\n"]
    for page, module in order:
        syms = modidx["syms"].get(f"infinitecontext.{module}", {})
        try: mod = importlib.import_module(f"infinitecontext.{module}")
        except Exception: mod = None
        first = (inspect.getdoc(mod) or "").splitlines()[0] if mod and inspect.getdoc(mod) else ""
        out.append(f"## `infinitecontext.{module}`\n\n{first} Lesson: [{page}]({page}.ipynb).\n")
        rows = []
        for full, (url, _) in syms.items():
            qual = full.removeprefix(f"infinitecontext.{module}.")
            if qual.split(".")[-1].startswith("_") and not qual.endswith("__init__") and qual.split(".")[-1] != "__call__": continue
            doc = ""
            try:
                obj = mod
                for part in qual.split("."): obj = getattr(obj, part)
                doc = (inspect.getdoc(getattr(obj, "fn", obj)) or "").split("\n")[0]
            except Exception: pass
            rows.append(f'<tr><td><a href="{html.escape(url)}"><code>{_esc(qual)}</code></a></td><td>{_esc(doc)}</td></tr>')
        out.append('<table class="ic-api-index"><tbody>\n' + "\n".join(rows) + "\n</tbody></table>\n")
    return "\n".join(out)

def extra_markdown() -> list[Path]:
    "Prose that ships beside the notebooks: infra/ (and k8s/ where it exists) README-style notes."
    found = []
    for d in ("infra", "k8s"):
        if (ROOT/d).is_dir():
            found += sorted(p for p in (ROOT/d).rglob("*.md")
                            if not any(part.startswith(".") for part in p.relative_to(ROOT).parts))
    return found

def toctree(caption: str, entries: list[str]) -> str:
    return "```{toctree}\n:hidden:\n:maxdepth: 1\n:caption: " + caption + "\n\n" + "\n".join(entries) + "\n```\n"

def markdown_twin(nb: nbformat.NotebookNode) -> str:
    "The plain-markdown version of a page (`<page>.html.md`): prose, code and text outputs, for readers and tools."
    parts = []
    for c in nb.cells:
        if c.cell_type == "markdown":
            s = re.sub(r'<div id="cell-\d+" class="ic-cell-anchor">.*?</div>', "", c.source).strip()
            if s.startswith("```{toctree}"): continue
            if s: parts.append(s)
            continue
        if "remove-input" not in c.metadata.get("tags", []): parts.append(f"```python\n{c.source}\n```")
        if "remove-output" in c.metadata.get("tags", []): continue
        for o in c.get("outputs", []):
            if o.output_type == "stream": parts.append(f"```\n{o.text.rstrip()}\n```")
            elif "text/markdown" in o.get("data", {}): parts.append(o.data["text/markdown"].strip())
            elif "image/png" in o.get("data", {}): parts.append("*(figure: see the HTML page)*")
            elif "text/plain" in o.get("data", {}): parts.append(f"```\n{o.data['text/plain'].rstrip()}\n```")
    return "\n\n".join(parts) + "\n"

_TAG = re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*>", re.I)
_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I)

def external_resources(site: Path) -> list[tuple[str, str]]:
    "Every (page, URL) where a built page would load a script, stylesheet, image or frame from another host."
    bad = []
    for p in sorted(site.rglob("*.html")):
        for tag in _TAG.finditer(p.read_text(errors="replace")):
            if re.search(r"""\brel\s*=\s*["']?(canonical|alternate)""", tag.group(0), re.I): continue   # a name, not a load
            bad += [(p.relative_to(site).as_posix(), url) for url in _URL.findall(tag.group(0))]
    return bad

def prepare(src: Path) -> list[tuple[str, Path, nbformat.NotebookNode]]:
    "Write the Sphinx source tree into `src` (wiped first); returns (page, notebook path, processed notebook)."
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    modidx = load_modidx()
    nbs, extras = notebooks(), extra_markdown()
    pages = {p.resolve(): f"{page_name(p)}.ipynb" for p in nbs}
    pages.update({p.resolve(): p.relative_to(ROOT).as_posix() for p in extras})
    built, order = [], []
    for p in nbs:
        nb, _ = process_notebook(p, modidx, pages)
        name = page_name(p)
        mod = next((split_directives(c.source)[0].get("default_exp") for c in nbformat.read(p, as_version=4).cells
                    if c.cell_type == "code" and "default_exp" in split_directives(c.source)[0]), None)
        if mod: order.append((name, mod))
        built.append((name, p, nb))
    lessons = [n for n, _, _ in built if n != "index"]
    reference = ["api"] + [p.relative_to(ROOT).with_suffix("").as_posix() for p in extras]
    for name, p, nb in built:
        if name == "index":
            nb.cells.append(_md(toctree("Lessons", lessons) + "\n" + toctree("Reference", reference)))
        nbformat.write(nb, src/f"{name}.ipynb")
    if "index" not in [n for n, _, _ in built]: raise SystemExit("docs: nbs/index.ipynb is missing: it is the landing page")
    (src/"api.md").write_text(api_page(modidx, order))
    for p in extras:
        dst = src/p.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(rewrite_links(p.read_text(), p.parent, pages, p.relative_to(ROOT).as_posix()))
    if not (MATHJAX/"tex-mml-chtml.js").exists():
        raise SystemExit(f"docs: MathJax is not installed at {MATHJAX}: run `make docs` (it runs npm install mathjax@3 there)")
    static = src/"_static"
    static.mkdir()
    shutil.copytree(MATHJAX, static/"mathjax", ignore=shutil.ignore_patterns("*-svg*.js", "*-full*.js", "mml-*.js",
                                                                               "node-main.js", "latest.js", "tex-chtml.js"))
    shutil.copy(DOCS/"custom.css", static/"custom.css")
    return built

def build(out: Path, src: Path) -> None:
    sys.path.insert(0, str(ROOT))
    built = prepare(src)
    tmp = Path(tempfile.mkdtemp(prefix="site-", dir=src.parent))   # myst-nb writes jupyter_execute/ beside it
    try:
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(DOCS), "-d", str(src.parent/"doctrees"),
               "-j", "1", str(src), str(tmp)]
        r = subprocess.run(cmd, env={**os.environ, "IC_DOCS_STATIC": str(src/"_static")})
        if r.returncode: raise SystemExit(f"docs: sphinx-build failed ({r.returncode}): {' '.join(cmd)}")
        for name, _, nb in built: (tmp/f"{name}.html.md").write_text(markdown_twin(nb))
        (tmp/".nojekyll").write_text("")
        bad = external_resources(tmp)
        if bad: raise SystemExit("docs: pages load resources from other hosts (the site must work offline):\n" +
                                 "\n".join(f"  {p}: {u}" for p, u in bad[:20]))
        if out.exists(): shutil.rmtree(out)
        tmp.rename(out)                                     # the old site stays until the new one is complete
    finally:
        if tmp.exists(): shutil.rmtree(tmp)
    print(f"docs: {len(built)} notebook pages -> {out.relative_to(ROOT) if ROOT in out.parents else out}/index.html")

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT/"_docs"), help="where the site goes (replaced whole once built)")
    ap.add_argument("--src", default=str(ROOT/"_proc"/"site"), help="scratch Sphinx source tree (git-ignored)")
    a = ap.parse_args()
    build(Path(a.out).resolve(), Path(a.src).resolve())

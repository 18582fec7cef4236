"""The built docs site (`make docs` -> _docs/): every documented URL exists, nothing loads from a CDN, and three pages
checked in a real headless Chromium over the DevTools protocol (math typeset, images loaded, no console errors,
internal links resolve). Screenshots go to runs/docs/. `make test` builds the site before pytest runs this."""
import base64, http.server, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time, tomllib
import urllib.parse, urllib.request
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT/"_docs"
SHOTS = ROOT/"runs"/"docs"
sys.path.insert(0, str(ROOT/"docs"))
import build  # noqa: E402  (docs/build.py: page names, the CDN scan)

DOC_URL = tomllib.loads((ROOT/"pyproject.toml").read_text())["project"]["urls"]["Documentation"].rstrip("/")
BROWSER_PAGES = ["index.html", "mla.html", "triton_decode.html"]     # the landing page, 02b_mla, 03_triton_decode

@pytest.fixture(scope="module")
def site():
    if not (SITE/"index.html").exists(): pytest.fail("no built site in _docs/: run `make docs` first")
    return SITE

class _Ids(HTMLParser):
    def __init__(self):
        super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v: self.ids.add(v)

_ids_cache = {}
def page_ids(path: Path) -> set:
    if path not in _ids_cache:
        p = _Ids(); p.feed(path.read_text(errors="replace")); _ids_cache[path] = p.ids
    return _ids_cache[path]

def check_site_url(site: Path, url: str) -> str | None:
    "None if a https://infinitecontext.github.io/infinitecontext/... URL is a file (and anchor) of the built site."
    rel = url.removeprefix(DOC_URL).lstrip("/")
    path, _, frag = rel.partition("#")
    f = site/(path or "index.html")
    if f.is_dir(): f = f/"index.html"
    if not f.is_file(): return f"{url}: no file {f.relative_to(site)}"
    if frag and f.suffix == ".html" and urllib.parse.unquote(frag) not in page_ids(f): return f"{url}: no id '{frag}' in {f.name}"
    return None

def documented_urls() -> dict[str, list[str]]:
    "Every docs-site URL the project prints: pyproject's Documentation, module docstrings, _modidx, README, notebooks."
    pat = re.compile(re.escape(DOC_URL) + r"[^\s\"'`)<>\]]*")
    found = {"pyproject.toml": [DOC_URL]}
    for f in [*sorted((ROOT/"infinitecontext").glob("*.py")), ROOT/"README.md", *sorted((ROOT/"nbs").glob("*.ipynb"))]:
        urls = [u.rstrip(".,;:") for u in pat.findall(f.read_text())]
        if urls: found[f.relative_to(ROOT).as_posix()] = urls
    d = build.load_modidx()
    found["_modidx.py"] = [f"{d['settings']['doc_host']}{d['settings']['doc_baseurl']}/{url}"
                           for syms in d["syms"].values() for url, _ in syms.values()]
    return found

def test_documented_urls_exist_in_the_built_site(site):
    urls = documented_urls()
    assert sum(map(len, urls.values())) > 50 and any(u.endswith(".html.md") for f in urls for u in urls[f])
    bad = [f"{f}: {e}" for f, us in urls.items() for u in us if (e := check_site_url(site, u))]
    assert not bad, "documented URLs the site does not have:\n" + "\n".join(bad[:40])

def test_every_notebook_is_a_page_in_order(site):
    nbs = build.notebooks()
    assert nbs[0].name == "index.ipynb"
    for p in nbs:
        name = build.page_name(p)
        assert (site/f"{name}.html").is_file() and (site/f"{name}.html.md").is_file(), p.name
    nav = (site/"index.html").read_text()
    pos = [nav.find(f'href="{build.page_name(p)}.html"') for p in nbs[1:]]
    assert all(i > 0 for i in pos) and pos == sorted(pos), f"lessons missing from the navigation or out of order: {pos}"
    for extra in build.extra_markdown():
        assert (site/extra.relative_to(ROOT).with_suffix(".html")).is_file(), extra
    assert (site/"api.html").is_file() and (site/"search.html").is_file() and (site/"searchindex.js").is_file()

def test_offline_no_cdn(site):
    assert build.external_resources(site) == []
    assert (site/"_static"/"mathjax"/"tex-mml-chtml.js").is_file()
    cdn = [p.name for p in site.rglob("*.html") if re.search(r"cdn\.jsdelivr|unpkg\.com|cdnjs|googleapis", p.read_text())]
    assert not cdn, f"CDN references in {cdn}"

def test_stored_outputs_rendered_not_executed(site):
    "The GPU benchmark table is on the page exactly as the notebook stored it (nothing was re-run on this CPU)."
    nb = nbformat.read(ROOT/"nbs"/"03_triton_decode.ipynb", as_version=4)
    gpu = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("#| gpu") and c.outputs]
    assert gpu, "03_triton_decode has no stored GPU output"
    first = next(o.text.splitlines()[0] for o in gpu[0].outputs if o.output_type == "stream")
    page = (site/"triton_decode.html").read_text()
    assert first.split("|")[0].strip() in page and "ic-flag" in page

def test_build_rejects_external_resources(tmp_path):
    (tmp_path/"a.html").write_text('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
                                   '<a href="https://github.com/x">fine: a link, not a resource</a>')
    assert build.external_resources(tmp_path) == [("a.html", "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js")]

def test_page_names_follow_nbdev():
    assert [build.page_name(n) for n in ["04b_training.ipynb", "03_triton_decode.ipynb", "index.ipynb", "90_runner.ipynb"]] \
        == ["training", "triton_decode", "index", "runner"]
    # only the leading number prefix goes, as nbdev's config does (an unanchored pattern made fp8_cache 'fpcache')
    assert build.page_name("03b_fp8_cache.ipynb") == "fp8_cache"
    import results
    assert results._page("03b_fp8_cache") == "fp8_cache"

# --- the browser ---------------------------------------------------------------------------------------------------

def _chromium() -> str | None:
    for b in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(b): return shutil.which(b)
    return None

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture(scope="module")
def served(site):
    handler = lambda *a, **k: _Quiet(*a, directory=str(site), **k)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown(); srv.server_close()

class CDP:
    "A minimal Chrome DevTools Protocol client over one page's websocket (commands in order, events collected)."
    def __init__(self, ws_url: str):
        import websocket
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n, self.events = 0, []
    def send(self, method: str, **params):
        self.n += 1; i = self.n
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == i:
                if "error" in m: raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
    def wait_for(self, event: str, timeout: float = 60):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            for j, m in enumerate(self.events):
                if m.get("method") == event: return self.events.pop(j)
            self.ws.settimeout(max(0.1, timeout - (time.monotonic() - t0)))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(event)
    def eval(self, expr: str):
        r = self.send("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r: raise RuntimeError(f"{expr[:80]}: {r['exceptionDetails']}")
        return r["result"].get("value")

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"): pytest.fail("CI needs Chromium for the docs browser test (make test installs Debian's chromium: make browser)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    prof = tmp_path_factory.mktemp("chromium")
    proc = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                             f"--user-data-dir={prof}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = prof/"DevToolsActivePort"
        for _ in range(600):                               # up to 60 s for a cold start on a busy 2-core machine
            if port_file.exists() and len(port_file.read_text().split()) >= 2: break
            if proc.poll() is not None: pytest.fail(f"{exe} exited with {proc.returncode} at start")
            time.sleep(0.1)
        else: pytest.fail(f"{exe} did not open its DevTools port in 60 s")
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        cdp = CDP(page["webSocketDebuggerUrl"])
        for dom in ("Page", "Runtime", "Log", "Network"): cdp.send(f"{dom}.enable")
        cdp.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        yield cdp
        cdp.ws.close()
    finally:
        proc.terminate()
        try: proc.wait(timeout=20)
        except subprocess.TimeoutExpired: proc.kill()

# text outside code and math that still looks like TeX means MathJax did not typeset it
_PAGE_STATE = r"""(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, style, mjx-container, textarea')) continue;
    const t = n.textContent;
    if (t.includes('$$') || /\\(frac|mathrm|begin\{|sum_|cdot|qquad)/.test(t)) raw.push(t.trim().slice(0, 120));
  }
  const imgs = [...document.images];
  return {math: document.querySelectorAll('mjx-container').length,
          mathjax: !!(window.MathJax && MathJax.version), raw,
          images: imgs.length, broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
          links: [...document.querySelectorAll('a[href]')].map(a => a.href),
          tables: [...document.querySelectorAll('table')].map(t => t.rows.length),
          height: Math.ceil(document.documentElement.scrollHeight)};
})()"""

def _problems(events: list) -> list[str]:
    out = []
    for m in events:
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif meth == "Runtime.exceptionThrown":
            out.append("exception: " + p["exceptionDetails"].get("exception", {}).get("description", p["exceptionDetails"].get("text", "")))
        elif meth == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif meth == "Network.loadingFailed" and not p.get("canceled"):
            out.append(f"network: {p.get('errorText')} ({p.get('type')})")
        elif meth == "Network.responseReceived" and p["response"]["status"] >= 400:
            out.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
    return out

def _shot(cdp: CDP, path: Path, **clip):
    params = {"format": "png"}
    if clip: params.update(clip=dict(x=0, scale=1, width=1280, **clip), captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(cdp.send("Page.captureScreenshot", **params)["data"]))

@pytest.mark.parametrize("page", BROWSER_PAGES)
def test_page_in_chromium(page, served, browser, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.events.clear()
    browser.send("Page.navigate", url=f"{served}/{page}")
    browser.wait_for("Page.loadEventFired", timeout=120)
    st = browser.eval(_PAGE_STATE)
    time.sleep(0.3)
    name = Path(page).stem
    _shot(browser, SHOTS/f"{name}.png")
    _shot(browser, SHOTS/f"{name}-full.png", y=0, height=min(st["height"], 16000))
    for tag, sel in (("math", "mjx-container[display=true]"), ("gpu", ".ic-flag")):   # a close look at each
        y = browser.eval(f"(() => {{ const e = document.querySelector('{sel}'); "
                         f"return e ? e.getBoundingClientRect().top + window.scrollY : null; }})()")
        if y is not None: _shot(browser, SHOTS/f"{name}-{tag}.png", y=max(0, int(y) - 100), height=900)
    problems = _problems(browser.events)
    assert not problems, f"{page}: " + "\n".join(problems)
    assert not st["broken"], f"{page}: images that did not load: {st['broken']}"
    assert not st["raw"], f"{page}: TeX left untypeset: {st['raw'][:5]}"
    if page == "index.html":                               # the curriculum map and the results table are real tables
        assert len([n for n in st["tables"] if n >= 8]) >= 2, f"index.html: tables not rendered: rows {st['tables']}"
    else:
        assert st["mathjax"] and st["math"] > 5, f"{page}: MathJax did not typeset ({st['math']} formulas)"
        assert st["images"] >= 1, f"{page}: the notebook's figures are missing"
    internal = sorted({u for u in st["links"] if u.startswith(served + "/")})
    assert len(internal) > 10, f"{page}: only {len(internal)} internal links (no navigation?)"
    bad = []
    for u in internal:
        path, _, frag = u.removeprefix(served + "/").partition("#")
        path = urllib.parse.unquote(path.split("?")[0]) or "index.html"
        try: urllib.request.urlopen(f"{served}/{urllib.parse.quote(path)}", timeout=30).read()
        except Exception as e: bad.append(f"{u}: {e}"); continue
        f = site/path
        if frag and f.suffix == ".html" and urllib.parse.unquote(frag) not in page_ids(f): bad.append(f"{u}: no id '{frag}'")
    assert not bad, f"{page}: internal links that do not resolve:\n" + "\n".join(bad)

# --- the README's results table ------------------------------------------------------------------------------------

def _table_rows(md: str) -> list[list[str]]:
    "The results table's rows, date column dropped (a date follows git history; the figures must not drift)."
    rows = [[c.strip() for c in l.strip().strip("|").split(" | ")] for l in md.splitlines() if l.startswith("| ") and "---" not in l]
    return [r[:3] + r[4:] for r in rows[1:]]

def test_results_table_matches_the_stored_outputs():
    import results
    nb = nbformat.read(ROOT/"nbs"/"index.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "results_table()" in c.source)
    stored = next(o.data["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {}))
    fresh = results.collect()
    assert len(fresh) >= 10 and all(r["url"].startswith(DOC_URL) for r in fresh)
    assert _table_rows(stored) == _table_rows(results.markdown(fresh)), \
        "README's results table no longer matches the notebooks' stored outputs: run `make results` and commit"
    readme = (ROOT/"README.md").read_text()
    assert all(f"]({r['url']})" in readme for r in fresh)

def test_results_quote_outputs_not_prose():
    "A row whose figure is gone from the outputs raises with the row's name, rather than printing an old number."
    import results
    nb = nbformat.read(ROOT/"nbs"/"03_triton_decode.ipynb", as_version=4)
    for c in nb.cells:
        if c.cell_type == "code": c.outputs = []
    with tempfile.TemporaryDirectory() as d:
        for p in (ROOT/"nbs").glob("*.ipynb"): shutil.copy(p, d)
        nbformat.write(nb, Path(d)/"03_triton_decode.ipynb")
        with pytest.raises(ValueError, match="MLA decode kernel, 64 x 8k"):
            results.collect(Path(d))

def test_search_works_offline(served, browser):
    "Sphinx's own search (searchindex.js, no service) finds the kernel lesson."
    browser.events.clear()
    browser.send("Page.navigate", url=f"{served}/search.html?q=flash-decode+kernel")
    browser.wait_for("Page.loadEventFired", timeout=120)
    hits = []
    for _ in range(100):                                   # the index loads and the results render asynchronously
        hits = browser.eval("[...document.querySelectorAll('#search-results li a')].map(a => a.getAttribute('href'))")
        if hits: break
        time.sleep(0.2)
    _shot(browser, SHOTS/"search.png")
    assert any(h.startswith("triton_decode.html") for h in hits), f"search found {hits}"
    assert not _problems(browser.events), _problems(browser.events)

def test_api_blocks_carry_docstrings_and_docments(site):
    "Each exported symbol's block: nbdev's anchor, its docstring, and its parameters' inline comments (docments)."
    from fastcore.docments import docments
    from infinitecontext import kernels, mla
    page = (site/"mla.html").read_text()
    assert 'id="infinitecontextconfig"' in page and 'id="mlattention"' in page
    assert docments(mla.InfiniteContextConfig.__init__)["kv_lora_rank"] in page
    page = (site/"triton_decode.html").read_text()
    doc = kernels.mla_decode.__doc__.split("`")[0]
    assert 'id="mla_decode"' in page and doc in page and docments(kernels.pick_splits)["programs"] in page
    api = (site/"api.html").read_text()
    assert 'href="triton_decode.html#mla_decode"' in api and 'href="mla.html#infinitecontextconfig"' in api

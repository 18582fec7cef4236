"""Run some `#| gpu` cells of a notebook in one Python process, as a notebook run would, and write them with their
outputs to a small notebook that tools/adopt_outputs.py can store back (cells are matched by their exact source).

    python tools/gpu_03b_cells.py nbs/03b_decode_fp8.ipynb OUT.ipynb "rows = bench_fp8(" "rag_rows = bench_ragged(" \
        -p out_dir=$OUT -p flashmla_dir=.flashmla
    python tools/adopt_outputs.py OUT.ipynb nbs/03b_decode_fp8.ipynb --only gpu     # then nbdev-clean

The notebook's module (its `#| default_exp`, exported by nbdev-export) is imported first, every name of it in the
cells' namespace (Triton's jit needs the kernels' source in a file), then the parameters given with -p (as papermill
injects them), then the cells named by --pre (any code cell, outputs dropped: e.g. a hidden import cell), then each selected cell: the `#| gpu` cells whose source
contains one of the given strings, in notebook order. A whole papermill run would repeat every sweep the notebook
stores; this reruns only the cells asked for. A cell that raises stores its traceback and the run goes on.
"""
import argparse, contextlib, importlib, io, json, os, sys, traceback


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebook"); ap.add_argument("out")
    ap.add_argument("select", nargs="+", help="run the #| gpu cells whose source contains one of these strings")
    ap.add_argument("-p", action="append", default=[], help="name=value parameters (strings; ints and floats are parsed)")
    ap.add_argument("--pre", action="append", default=[], help="first run the code cells containing this string, outputs not kept (e.g. a hidden import cell)")
    a = ap.parse_args(argv)
    nb = json.load(open(a.notebook))
    src = lambda c: "".join(c["source"])
    mod = next(src(c).split()[2] for c in nb["cells"] if src(c).startswith("#| default_exp"))
    ns = {**vars(importlib.import_module(f"infinitecontext.{mod}")), "__name__": "__gpu_cells__"}
    for kv in a.p:
        k, v = kv.split("=", 1)
        for t in (int, float):
            with contextlib.suppress(ValueError): v = t(v); break
        ns[k] = v
    for c in nb["cells"]:
        if c["cell_type"] == "code" and any(s in src(c) for s in a.pre):
            print(f"[gpu_03b_cells] pre: {src(c).splitlines()[0][:100]}", file=sys.stderr, flush=True)
            exec(compile(src(c), "<pre cell>", "exec"), ns)
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and src(c).startswith("#| gpu") and any(s in src(c) for s in a.select)]
    if not cells: sys.exit(f"no #| gpu cell contains any of {a.select}")
    done = []
    for c in cells:
        buf = io.StringIO()
        class Tee:   # the output goes to the log as it comes, and to the cell
            def write(self, s): buf.write(s); sys.__stdout__.write(s); return len(s)
            def flush(self): sys.__stdout__.flush()
        print(f"[gpu_03b_cells] {src(c).splitlines()[1][:100]}", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(Tee()):
            try: exec(compile(src(c), "<gpu cell>", "exec"), ns)
            except Exception: traceback.print_exc(file=sys.stdout)
        done.append({"cell_type": "code", "execution_count": None, "id": c.get("id", f"gpu{len(done)}"), "metadata": {}, "source": c["source"],
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": buf.getvalue()}]})
        out = {"cells": done, "metadata": nb["metadata"], "nbformat": 4, "nbformat_minor": 5}
        json.dump(out, open(a.out + ".tmp", "w"), indent=1)
        os.replace(a.out + ".tmp", a.out)   # after every cell: a timeout keeps what finished


if __name__ == "__main__": main()

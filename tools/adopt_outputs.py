"""Store an executed run's outputs in the source notebook, so the repository (and the docs) carry measured numbers.

    python tools/adopt_outputs.py runs/X/03_triton_decode.ipynb nbs/03_triton_decode.ipynb [--only gpu,multigpu,slow]

Cells are matched one to one by their source (papermill's injected-parameters cell is ignored); a source that
changed since the run is an error, so outputs never land on the wrong cell. With --only, just the cells carrying
one of those nbdev flags take the new outputs (e.g. the GPU cells measured on the GPU box), each matched by its
exact source, so edits to other cells since the run do not matter. Run nbdev-clean after.
"""
import argparse, sys
from pathlib import Path
import nbformat

def _flags(src):
    return {l.strip()[2:].strip() for l in src.splitlines() if l.strip().startswith("#|") and len(l.strip()[2:].split()) == 1}

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("executed"); ap.add_argument("source")
    ap.add_argument("--only", default=None, help="comma-separated nbdev flags: adopt only cells carrying one of them")
    a = ap.parse_args(argv)
    ex = nbformat.read(a.executed, as_version=4); src = nbformat.read(a.source, as_version=4)
    ex_cells = [c for c in ex.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    only = set(a.only.split(",")) if a.only else None
    if only is not None:  # flagged cells are matched by their own source, so edits elsewhere don't matter
        by_src = {c.source: c for c in ex_cells if c.cell_type == "code" and not c.metadata.get("ic_skipped")}
        n = 0
        for s in src.cells:
            if s.cell_type == "code" and _flags(s.source) & only and s.source in by_src:
                s.outputs = by_src[s.source].outputs; s.execution_count = None; n += 1
        nbformat.write(src, a.source)
        print(f"adopted outputs of {n} flagged cell(s) into {a.source}")
        return
    if len(ex_cells) != len(src.cells):
        sys.exit(f"{a.executed} has {len(ex_cells)} cells, {a.source} has {len(src.cells)}: re-run the notebook first")
    n = 0
    for i, (e, s) in enumerate(zip(ex_cells, src.cells)):
        if e.source != s.source:
            sys.exit(f"cell {i} differs between the run and the source ({s.source[:60]!r}): re-run the notebook first")
        if s.cell_type != "code": continue
        if only is not None and not (_flags(s.source) & only): continue
        if e.metadata.get("ic_skipped"): continue  # not executed in that run: keep what the source has
        s.outputs = e.outputs; s.execution_count = None; n += 1
    nbformat.write(src, a.source)
    print(f"adopted outputs of {n} cell(s) into {a.source}")

if __name__ == "__main__": main()

"""The README's results table, quoted from the stored outputs of nbs/*.ipynb (never typed in by hand).

Each row names the notebook, a pattern that finds the one code cell whose stored output states the figure, and patterns
that pull the figure out of that output. The link goes to that cell on the docs site (`<page>.html#cell-N`, the anchors
docs/build.py gives every code cell). Hardware and date come from the output's own header line where it prints one
(GPU runs do); otherwise the row says what ran it and the date is when the notebook's outputs were last committed.
A figure that is no longer in the outputs raises, naming the row: update the row here, then refresh the table:

    make results      (re-runs nbs/index.ipynb, adopts its outputs, rewrites README.md)
"""
from __future__ import annotations
import re, subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DOC_URL = "https://infinitecontext.github.io/infinitecontext"

@dataclass
class Row:
    figure: str                 # what is measured
    nb: str                     # notebook stem, e.g. "03_triton_decode"
    find: str                   # regex: the first code cell whose stored output matches holds the figure
    ours: str                   # format string over the named groups of `grab`
    grab: list[str]             # regexes with named groups, searched in that output
    seed: str                   # the seed's claim beside it (or why there is none)
    hardware: str = ""          # used when the output prints no GPU header line
    flags: dict = field(default_factory=dict)

def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream": out.append(o.get("text", ""))
        elif "text/plain" in o.get("data", {}) and "image/png" not in o.get("data", {}): out.append(o["data"]["text/plain"])
        elif "text/markdown" in o.get("data", {}): out.append(o["data"]["text/markdown"])
    return "".join(out)

def _page(nb: str) -> str: return re.sub(r"\d+[a-zA-Z0-9]*_", "", nb.lower())   # nbdev's page name (docs/build.py)

def _git_date(path: Path) -> str:
    r = subprocess.run(["git", "log", "-1", "--format=%cs", "--", str(path)], cwd=ROOT, capture_output=True, text=True)
    if r.returncode or not r.stdout.strip():
        raise RuntimeError(f"results: no git history for {path.relative_to(ROOT)} (a shallow clone? fetch the full history)")
    return r.stdout.strip()

H200_SHAPES = [("64 x 8k, h16", "64 x 8k"), ("128 x 8k, h16", "128 x 8k"), ("128 x 4k, h16", "128 x 4k"),
               ("16 x 32k, h16", "16 x 32k"), ("1 x 1024k, h16", "1 x 1M"), ("64 x 8k, h128", "64 x 8k, 128 heads")]

def rows() -> list[Row]:
    kernel = [Row(f"MLA decode kernel, {label} (bf16, page 64)", "03_triton_decode", r"provider\s+ms\s+TB/s",
                  "{tbs} TB/s = {pct} of copy; {naive} the seed's PyTorch path, {absorbed} absorbed PyTorch",
                  [re.escape(shape) + r"\s+ours\s+[\d.]+\s+(?P<tbs>[\d.]+)\s+(?P<pct>[\d.]+%)[^\n]*\n\s*speed-up\s+"
                   r"(?P<naive>[\d.]+x) vs torch-naive, (?P<absorbed>[\d.]+x) vs torch-absorbed"],
                  "3.4x decode speed-up") for shape, label in H200_SHAPES]
    return [
        Row("KV cache per token, DeepSeek-V3 (MLA)", "01_kv_cache", r"model\s+kind\s+bytes/token",
            "{b} bytes ({k} KiB)", [r"DeepSeek-V3 \(MLA\)\s+MLA\s+(?P<b>[\d,]+)\s+(?P<k>[\d.]+)"],
            "~8.0 MB per 256 tokens (32 KiB/token)", hardware="none (arithmetic on configs)"),
        Row("KV cache per token, InfiniteContext-1B (MLA)", "01_kv_cache", r"model\s+kind\s+bytes/token",
            "{b} bytes ({k} KiB)", [r"InfiniteContext-1B \(MLA\)\s+MLA\s+(?P<b>[\d,]+)\s+(?P<k>[\d.]+)"],
            "(no claim)", hardware="none (arithmetic on configs)"),
        Row("KV cache at 128k tokens", "01_kv_cache", r"claim: MLA 128k context",
            "DeepSeek-V3 {ds}, InfiniteContext-1B {ic}", [r"128k context ~4\.1 GB\s+\|\s+ours: DeepSeek-V3 (?P<ds>[\d.]+ GB), IC-1B (?P<ic>[\d.]+ GB)"],
            "~4.1 GB", hardware="none (arithmetic on configs)"),
        Row("KV cache saving against Llama-2-7B (MHA)", "01_kv_cache", r"claim: ~93\.7% savings",
            "DeepSeek-V3 {ds}, InfiniteContext-1B {ic}", [r"ours: DeepSeek-V3 vs Llama-2 (?P<ds>[\d.]+%), IC-1B vs Llama-2 (?P<ic>[\d.]+%)"],
            "93.7%", hardware="none (arithmetic on configs)"),
        Row("GPU ceilings measured (copy bandwidth, bf16 matmul)", "00_infra", r"copy bandwidth .* TB/s \(read \+ write\)",
            "{bw} TB/s = {bwp} of datasheet, {tf} TFLOP/s = {tfp} of datasheet",
            [r"copy bandwidth (?P<bw>[\d.]+) TB/s \(read \+ write\) = (?P<bwp>\d+%)", r"(?P<tf>\d+) TFLOP/s = (?P<tfp>\d+%)"],
            "(no claim)"),
        *kernel,
        Row("InfiniteContext-1B greedy decode, batch 8, prompt 4096", "03_triton_decode", r"absorbed, Triton kernel\s+[\d.]+ s",
            "{k} new tokens/s through the kernel, {n} decompressing (the seed's path), {a} absorbed PyTorch",
            [r"Triton kernel\s+[\d.]+ s\s+(?P<k>\d+)", r"naive: decompress every step\s+[\d.]+ s\s+(?P<n>\d+)",
             r"absorbed, PyTorch\s+[\d.]+ s\s+(?P<a>\d+)"], "3.4x decode speed-up"),
        Row("Training MFU, InfiniteContext-1B, 4 x 4096 tokens, one GPU", "04b_training", r"ic_1b seq 4096 x 4 bf16, 1 GPU",
            "{mfu} MFU, {tok} tokens/s", [r"MFU (?P<mfu>[\d.]+%)", r"1 GPU: (?P<tok>[\d,]+) tok/s"],
            "92% GPU utilisation (nvidia-smi busy time, not MFU)"),
        Row("Scaling over 4 GPUs (tokens/s per GPU against one GPU)", "04b_training", r"\| path \| GPUs \| tok/s per GPU",
            "FSDP2 {fsdp} (MFU {fm}), DDP {ddp} (MFU {dm})",
            [r"\| fsdp \| \d+ \| [\d,]+ \| (?P<fsdp>\d+%) \| (?P<fm>[\d.]+%)", r"\| ddp \| \d+ \| [\d,]+ \| (?P<ddp>\d+%) \| (?P<dm>[\d.]+%)"],
            "FSDP 92% / DDP 65% GPU utilisation (4x A100)"),
        Row("Passkey retrieval, 2-layer model trained on CPU, 128 tokens", "04b_training", r"passkey accuracy @ 128 tokens",
            "{acc} exact match on held-out samples, trained in {s}", [r"passkey accuracy @ 128 tokens: (?P<acc>[\d.]+%)", r"in (?P<s>[\d.]+s) on"],
            "(no claim; NIAH targets: lesson 05a)", hardware="CPU, 2 threads (ci profile)"),
    ]

def _hardware_date(text: str, row: Row, nb_path: Path) -> tuple[str, str]:
    head = next((l for l in text.splitlines() if re.search(r"\bNVIDIA\b", l) and "|" in l), "")
    hw = row.hardware
    if head:
        parts = [p.strip() for p in head.split("|")]
        hw = next(p for p in parts if "NVIDIA" in p)
        if not hw.startswith(("1x", "2x", "4x", "8x")) and not re.match(r"\d+x ", hw): hw = hw.replace("NVIDIA ", "1x ")
        hw = hw.replace("NVIDIA ", "")
    if not hw: raise ValueError(f"results: '{row.figure}' ({row.nb}): the output prints no GPU header; give the row a hardware")
    m = re.search(r"\b(20\d\d-\d\d-\d\d)", head or "") or re.search(r"\b(20\d\d-\d\d-\d\d)\b", text)
    return hw, m.group(1) if m else _git_date(ROOT/"nbs"/nb_path.name)

def collect(nbs: Path = ROOT/"nbs") -> list[dict]:
    "Every row's figure, hardware, date and source link, read from the stored outputs; raises naming a row that fails."
    out, cache = [], {}
    for r in rows():
        p = nbs/f"{r.nb}.ipynb"
        if not p.exists(): raise FileNotFoundError(f"results: '{r.figure}' needs {p.name}, which is not in nbs/")
        nb = cache.setdefault(p, nbformat.read(p, as_version=4))
        hit = next(((i, _text(c)) for i, c in enumerate(nb.cells, 1) if c.cell_type == "code" and re.search(r.find, _text(c))), None)
        if hit is None: raise ValueError(f"results: '{r.figure}': no stored output in {p.name} matches {r.find!r}")
        i, text = hit
        vals = {}
        for g in r.grab:
            m = re.search(g, text)
            if m is None: raise ValueError(f"results: '{r.figure}': {p.name} cell {i} has no {g!r} in its output")
            vals.update(m.groupdict())
        hw, date = _hardware_date(text, r, p)
        out.append(dict(figure=r.figure, ours=r.ours.format(**vals), hardware=hw, date=date, seed=r.seed,
                        source=f"{r.nb} cell {i}", url=f"{DOC_URL}/{_page(r.nb)}.html#cell-{i}"))
    return out

def markdown(results: list[dict] | None = None) -> str:
    "The table as markdown (what nbs/index.ipynb displays and README.md shows)."
    results = collect() if results is None else results
    lines = ["| figure | ours (stored output) | hardware | date | the seed's claim | measured in |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['figure']} | {r['ours']} | {r['hardware']} | {r['date']} | {r['seed']} | [{r['source']}]({r['url']}) |")
    return "\n".join(lines)

def results_table():
    "Display the table in a notebook (nbs/index.ipynb)."
    from IPython.display import Markdown
    return Markdown(markdown())

if __name__ == "__main__":
    print(markdown())

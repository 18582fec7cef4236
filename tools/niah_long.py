#!/usr/bin/env python3
"""Lesson 05b's GPU run in one process: train a model from scratch on passkey/NIAH data with a length curriculum
(bounded by steps, every length <= --train-len), YaRN-extend it by --yarn-factor, fine-tune briefly at --train-len,
and evaluate a NIAH depth x length grid with lesson 06a's engine (paged latent cache, chunked prefill).

    python tools/niah_long.py --preset gpu --out $OUT            # the H100 run stored in nbs/05b_alignment.ipynb
    python tools/niah_long.py --preset gpu32k --out $OUT         # the same model, YaRN fine-tuned at 8k and then 32k
    python tools/niah_long.py --preset tiny --out /tmp/nl        # the same path on a CPU in seconds (tests/test_align_long.py)

Every result is written as soon as it exists (results.json and heatmap.png rewritten atomically after each grid
length), so a run stopped by a time limit still leaves what it reached (results.json lists the lengths done).
"""
from __future__ import annotations
import argparse, datetime, json, math, os, random, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from infinitecontext.data import ByteTokenizer, stdlib_haystack, make_batch, passkey_sample
from infinitecontext.eval import NiahSample, evaluate_grid, summarize, plot_heatmap, wilson
from infinitecontext.align import with_rope, yarn
from infinitecontext.engine import LLMEngine, SamplingParams
from infinitecontext.infra import write_json_atomic
from infinitecontext.mla import InfiniteContextConfig, tiny
from infinitecontext.model import InfiniteContextForCausalLM
from infinitecontext.train import sample_mean_loss

PRESETS = {   # model, curriculum "len:steps:batch,...", YaRN, grid
    "tiny": dict(model=dict(), stages="96:40:16:0.9,160:20:8", train_len=160, yarn_factor=4.0, yarn_steps=10,
                 lengths="160,320,480", depths="0.1,0.5,0.9", n=2, base_lengths="160,320", lr=3e-3),
    "gpu": dict(model=dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=10, num_attention_heads=8,
                           q_lora_rank=512, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128),
                stages="128:1000:256:0.95,512:200:64,2048:120:16,8192:120:4", train_len=8192, yarn_factor=16.0, yarn_steps=60,
                lengths="4096,8192,16384,32768,65536,131072", depths="0.0,0.25,0.5,0.75,1.0", n=4,
                base_lengths="4096,8192,16384", lr=1e-3),
}
# "gpu" plus a YaRN fine-tune that reaches 32k: the same curriculum and YaRN (x16 over 8k), then 60 steps at 8k as
# before and 150 at 32,768 tokens (batch 1) -- the YaRN paper fine-tunes at the extended length; the same grid.
# One cosine schedule spans all 210 fine-tune steps (the stored run, 05b: its loss rose in the 8k part; retrieval 0%).
PRESETS["gpu32k"] = dict(PRESETS["gpu"], yarn_stages="8192:60:4,32768:150:1")
# The same with a schedule per fine-tune stage: the 8k part is then exactly the stored "gpu" fine-tune (its own 60-step
# cosine), and the 32k part gets its own warm-up and cosine at 0.3x that peak (the 4th field scales a stage's rate).
PRESETS["gpu32k-staged"] = dict(PRESETS["gpu"], yarn_stages="8192:60:4,32768:150:1:0.3", yarn_schedule="stage")

class EngineBackend:
    "evaluate_grid's backend over lesson 06a's LLMEngine: greedy, prompts given as token ids."
    def __init__(self, engine: LLMEngine, tok):
        self.engine, self.tok, self.max_context = engine, tok, engine.max_model_len
    def check(self, n_tokens: int):
        if n_tokens > self.max_context:
            raise ValueError(f"a prompt + answer of {n_tokens} tokens exceeds the engine's max_model_len ({self.max_context})")
    def generate(self, samples: list[NiahSample], max_new_tokens: int) -> list[str]:
        seqs = self.engine.generate([s.input_ids for s in samples], SamplingParams(max_tokens=max_new_tokens, ignore_eos=True))
        return [self.tok.decode(s.output_ids) for s in seqs]

def _ints(s): return [int(x) for x in str(s).split(",") if x]

@torch.no_grad()
def probe(model, tok, hay, L, n, dev, seed=123) -> float:
    "Teacher-forced passkey accuracy (all five digits right) on n fresh samples of length L: the curriculum's gate."
    rng, was = random.Random(seed), model.training
    ss = [passkey_sample(tok, hay, L, rng.random(), rng) for _ in range(n)]
    x, per = torch.tensor([s.input_ids for s in ss], device=dev), max(1, 262_144 // L)   # (n, L); <= 256k tokens a forward
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
        pred = torch.cat([model.eval()(x[i:i + per]).logits.argmax(-1) for i in range(0, n, per)])   # (n, L)
    model.train(was)
    return sum(tok.decode(pred[j, s.prompt_len - 1:s.prompt_len - 1 + len(s.answer)].tolist()) == s.answer for j, s in enumerate(ss)) / n

def train_steps(model, tok, hay, stages, lr, seed, dev, log, warmup=50, per_stage=False):
    """AdamW on passkey (90%) + LM windows, bf16 autocast on CUDA. stages = [(seq_len, steps, batch[, gate])]: a stage
    with a gate ends early once the probe (every 100 steps) reaches it; its step count is the bound. Cosine over the bound.
    per_stage: each stage gets its own warm-up and cosine, and its 4th field (if any) scales its peak rate (no gate then)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    total = sum(s[1] for s in stages)
    k, hist = 0, []
    model.train()
    for L, steps, bs, *gate in stages:
        t0, i0 = time.perf_counter(), k
        peak = lr * (gate[0] if per_stage and gate else 1.0)
        if per_stage: gate = []
        for i in range(steps):
            j, n = (i, steps) if per_stage else (k, total)      # position in the schedule and its length
            for g in opt.param_groups:
                g["lr"] = peak * min(1.0, (j + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * j / n)))
            x, y = make_batch(tok, hay, L, bs, seed, k, 0.9, score_question=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                logits = model(x.to(dev)).logits
            loss = sample_mean_loss(logits, y.to(dev)); loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad(set_to_none=True)
            k += 1
            if gate and (i + 1) % 100 == 0:
                acc = probe(model, tok, hay, L, 64, dev); hist.append(dict(step=k, len=L, loss=round(loss.item(), 4), probe=acc))
                log(f"    step {k}: loss {loss.item():.3f}, passkey probe at {L}: {acc:.0%}")
                if acc >= gate[0]: break
            elif i == steps - 1 or i % max(1, steps // 4) == 0:
                hist.append(dict(step=k, len=L, loss=round(loss.item(), 4), lr=opt.param_groups[0]["lr"]))
        if dev.type == "cuda": torch.cuda.synchronize()
        dt, done = time.perf_counter() - t0, k - i0
        acc = probe(model, tok, hay, L, 32, dev); hist.append(dict(step=k, len=L, loss=round(loss.item(), 4), probe=acc))
        log(f"  stage len {L:>6} x batch {bs:>3}: {done} steps in {dt:.0f}s ({done * L * bs / dt / 1e3:.0f}k tok/s), "
            f"loss {loss.item():.3f}, passkey probe {acc:.0%}")
    return model.eval(), hist

def grid(model, tok, hay, lengths, depths, n, seed, dev, out, name, res, log, batched_tokens):
    "The NIAH grid one length at a time (results saved after each), on the engine in bf16."
    m = model.to(torch.bfloat16) if dev.type == "cuda" else model
    eng = LLMEngine(m, tok, max_model_len=max(lengths) + 16, max_num_seqs=len(depths) * n,
                    max_num_batched_tokens=batched_tokens, prefix_caching=False)
    be, r = EngineBackend(eng, tok), res.setdefault(name, dict(cells=[], lengths=[], depths=depths, n=n, wall_s={}))
    for L in lengths:
        t0 = time.perf_counter()
        g = evaluate_grid(be, tok, hay, [L], depths, n=n, seed=seed + L, log=lambda *a: None)
        r["cells"] += g["cells"]; r["lengths"].append(L); r["wall_s"][L] = round(time.perf_counter() - t0, 1)
        s = summarize(g)["single"][L]
        log(f"  {name:14s} {L:>7} tokens: {s['acc']:6.1%} (n={s['n']}, 95% CI {s['ci95'][0]:.0%}..{s['ci95'][1]:.0%}), "
            f"worst cell {min(c['exact_match'] for c in g['cells']):.0%}, {r['wall_s'][L]:.0f}s")
        save(out, res)
    del eng
    if dev.type == "cuda": torch.cuda.empty_cache()

def save(out, res):
    write_json_atomic(out / "results.json", res)
    g = res.get("yarn_ft")
    if g and g["cells"]:
        import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(1.2 * len(g["lengths"]) + 2.5, 0.5 * len(g["depths"]) + 2))
        plot_heatmap(dict(g, lengths=g["lengths"]), ax=ax, title=f"{res['title']} (n={g['n']} per cell)")
        fig.tight_layout(); tmp = out / "heatmap.tmp.png"; fig.savefig(tmp, dpi=110); plt.close(fig); os.replace(tmp, out / "heatmap.png")

def main(argv=None, log=print):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, default="tiny", help="tiny: a CPU in seconds; gpu, gpu32k, gpu32k-staged: the stored H100 runs")
    ap.add_argument("--out", default="runs/niah_long", help="results.json and heatmap.png go here")
    helps = dict(stages="curriculum 'len:steps:batch[:gate],...' (gate: end the stage once the passkey probe reaches it)",
                 train_len="the longest training length (tokens); YaRN scales from it", yarn_factor="YaRN's s",
                 yarn_steps="fine-tuning steps at train_len after YaRN",
                 yarn_stages="fine-tuning after YaRN as 'len:steps:batch,...' (lengths <= the YaRN reach; "
                             "default: yarn_steps at train_len with the last stage's batch; with --yarn-schedule stage a 4th "
                             "field scales that stage's peak rate)",
                 yarn_schedule="the fine-tune's learning-rate schedule: 'global' (one cosine over all its steps) or 'stage' "
                               "(a warm-up and cosine per stage)", lengths="grid lengths, comma-separated",
                 depths="needle depths in [0, 1], comma-separated", n="prompts per grid cell",
                 base_lengths="lengths for the no-YaRN and YaRN-without-fine-tuning curves", lr="peak learning rate")
    for k, h in helps.items():
        ap.add_argument("--" + k.replace("_", "-"), dest=k, default=None, help=h + " (default: the preset's)")
    ap.add_argument("--batched-tokens", type=int, default=8192, help="the engine's token budget per step (prefill chunk)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    p = {k: (getattr(a, k) if getattr(a, k) is not None else PRESETS[a.preset].get(k)) for k in helps}
    try: stages = [tuple(int(v) if j < 3 else float(v) for j, v in enumerate(s.split(":"))) for s in p["stages"].split(",")]
    except ValueError: stages = []
    if not stages or any(len(s) not in (3, 4) for s in stages):
        raise ValueError(f"--stages {p['stages']!r}: give 'len:steps:batch[:gate],...', e.g. 128:1000:256:0.95,8192:120:4")
    train_len, factor, lengths = int(p["train_len"]), float(p["yarn_factor"]), _ints(p["lengths"])
    if max(s[0] for s in stages) > train_len:
        raise ValueError(f"a curriculum stage is longer than --train-len {train_len}: the point is training at <= train_len")
    if max(lengths) > factor * train_len:
        raise ValueError(f"grid length {max(lengths)} exceeds YaRN's reach {factor:g} x {train_len}: raise --yarn-factor")
    per_stage = (p.get("yarn_schedule") or "global") == "stage"
    if (p.get("yarn_schedule") or "global") not in ("global", "stage"):
        raise ValueError(f"--yarn-schedule {p['yarn_schedule']!r}: give 'global' or 'stage'")
    try: ft = [tuple(int(v) if j < 3 else float(v) for j, v in enumerate(s.split(":"))) for s in p["yarn_stages"].split(",")] if p.get("yarn_stages") else \
              [(train_len, int(p["yarn_steps"]), stages[-1][2])]
    except ValueError: ft = []
    if not ft or any(len(s) not in ((3, 4) if per_stage else (3,)) for s in ft):
        raise ValueError(f"--yarn-stages {p['yarn_stages']!r}: give 'len:steps:batch,...', e.g. 8192:60:4,32768:150:1 "
                         f"(a 4th field, the stage's rate scale, needs --yarn-schedule stage)")
    if max(s[0] for s in ft) > factor * train_len:
        raise ValueError(f"a --yarn-stages length exceeds YaRN's reach {factor:g} x {train_len}: the fine-tune stays within it")
    depths = [float(x) for x in str(p["depths"]).split(",")]
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(a.seed)
    if dev.type == "cuda": torch.backends.cuda.matmul.allow_tf32 = True
    tok = ByteTokenizer(); hay = tok.encode(stdlib_haystack())
    cfg = tiny(max_position_embeddings=train_len, **PRESETS[a.preset]["model"])
    model = InfiniteContextForCausalLM(cfg).to(dev)
    hw = torch.cuda.get_device_name() if dev.type == "cuda" else "CPU"
    res = dict(preset=a.preset, hardware=hw, date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               torch=torch.__version__, params=model.num_params(), train_len=train_len, stages=stages, yarn_factor=factor,
               yarn_steps=sum(s[1] for s in ft), yarn_stages=ft, yarn_schedule="stage" if per_stage else "global",
               grid_lengths=lengths, depths=depths,
               title=f"{model.num_params() / 1e6:.0f}M, trained at <= {train_len}, YaRN x{factor:g}")
    log(f"{hw}, torch {torch.__version__}: {res['params'] / 1e6:.1f}M parameters, curriculum {stages}, YaRN x{factor:g} -> {int(factor * train_len)}"
        + (f", YaRN fine-tune {ft}" if p.get("yarn_stages") else ""))
    t0 = time.perf_counter()
    model, res["train_log"] = train_steps(model, tok, hay, stages, float(p["lr"]), a.seed, dev, log)
    res["train_s"] = round(time.perf_counter() - t0, 1); save(out, res)
    base_lengths = [L for L in _ints(p["base_lengths"]) if L <= max(lengths)]
    long = with_rope(model, model.config.rope_parameters, max(base_lengths) + 16).to(dev)   # no YaRN: extrapolated positions
    grid(long, tok, hay, base_lengths, depths[::2], 2, 7_000 + a.seed, dev, out, "no_yarn", res, log, a.batched_tokens); del long
    y = yarn(model, factor, train_len); del model
    y = with_rope(y, y.config.rope_parameters, max(lengths) + 16).to(dev)   # room for the answer after a s x L prompt
    y0 = with_rope(y, y.config.rope_parameters, max(base_lengths) + 16).to(dev)   # YaRN before any fine-tuning
    grid(y0, tok, hay, base_lengths, depths[::2], 2, 7_000 + a.seed, dev, out, "yarn_no_ft", res, log, a.batched_tokens); del y0
    t0 = time.perf_counter()
    y, res["yarn_log"] = train_steps(y, tok, hay, ft, float(p["lr"]) / 3, a.seed + 1, dev, log, warmup=5, per_stage=per_stage)
    res["yarn_ft_s"] = round(time.perf_counter() - t0, 1); save(out, res)
    grid(y, tok, hay, lengths, depths, int(p["n"]), 9_000 + a.seed, dev, out, "yarn_ft", res, log, a.batched_tokens)
    s = {c["length"]: [] for c in res["yarn_ft"]["cells"]}
    for c in res["yarn_ft"]["cells"]: s[c["length"]].append(c)
    res["summary"] = {L: dict(acc=sum(c["exact_match"] * c["n"] for c in cs) / sum(c["n"] for c in cs), n=sum(c["n"] for c in cs),
                          min_cell=min(c["exact_match"] for c in cs)) for L, cs in s.items()}
    res["not_reached"] = [L for L in lengths if L not in s]
    res["all_cells_ge_95"] = all(c["exact_match"] >= 0.95 for c in res["yarn_ft"]["cells"]) and not res["not_reached"]
    save(out, res)
    log(json.dumps(dict(params=res["params"], train_s=res["train_s"], yarn_ft_s=res["yarn_ft_s"], summary=res["summary"],
                        not_reached=res["not_reached"], all_cells_ge_95=res["all_cells_ge_95"])))
    return res

if __name__ == "__main__":
    main()

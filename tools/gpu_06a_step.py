"""One engine's CUDA-graph decode step, timed in a fresh process (06a's decode-step table, cell 7a4e0011, runs it once per
shape and cache format). In one process, an engine built after another engine had been freed replayed its graphs
0.44-0.59 ms slower than the same engine built first, with the same kernels and the same eager kernel times, whichever
commit built it (tools/gpu_06a_r5fix_ab.py; session 8's device log): so every engine is measured as the first and only
one of its process, as a server runs it.

    python tools/gpu_06a_step.py '["ragged", 48, 16]' fp8 OUT.pt     # prints the rows as JSON, saves their logits to OUT.pt

ic_1b in bf16 is built as 06a's setup cell builds it (seed 0), so the logits of the processes compare. --smoke: CPU,
a tiny model with ic_1b's latent rows and fake graphs that rerun the captured step (a check of this script, no timing).
"""
import gc, json, sys, time
import torch
import infinitecontext.engine as E
from infinitecontext.engine import LLMEngine, StepBatch, _store_rows, _SPLITS, decode_step
from infinitecontext.kernels_fp8 import _bench_shape
from infinitecontext.mla import tiny, ic_1b
from infinitecontext.model import InfiniteContextForCausalLM


def forced(kind: str, pick: str):
    "The engine's rule for `kind` ('fp8' or 'auto') made to return `pick` (to time both schedules through `_run_graph`)."
    name = "fp8_decode_schedule" if kind == "fp8" else "bf16_decode_schedule"
    orig = getattr(E, name)
    class _Ctx:
        def __enter__(self): setattr(E, name, lambda *a, **k: pick)
        def __exit__(self, *e): setattr(E, name, orig)
    return _Ctx()


def ragged_graph_step(big, lens: list, kv_cache_dtype: str, P: int = 64, dev: str = "cuda", bench=None):
    """One CUDA-graph decode step of `big` over a random cache at `lens` (pages of P): per captured graph (bf16: 03's
    splits and 03b's plan; FP8: 03e's split grid and plan) its replay time, logits, the step outside it, and the step
    through `_run_graph` (the rule, the plan built on the host and copied in, the replay), the rule's pick marked."""
    b, nb = len(lens), [-(-n // P) for n in lens]
    big.config.max_position_embeddings = max(131072, max(lens) + P)
    eng = LLMEngine(big, max_model_len=max(lens) + P, num_blocks=2 + sum(nb), max_num_seqs=b, kv_cache_dtype=kv_cache_dtype, page_size=P)
    big.config.max_position_embeddings = 131072
    eng.capture_cuda_graphs(buckets=(b,))
    g, n = torch.Generator(device=dev).manual_seed(0), eng.kv_cache.shape[1] * P
    for kv in eng.kv_cache:                      # the same random bf16 rows in every layer: stored as they are, or quantised
        for a in range(0, n, 1 << 18):
            m = min(1 << 18, n - a)
            _store_rows(kv, torch.arange(a, a + m, device=dev), torch.randn(m, eng.width, device=dev, dtype=torch.bfloat16, generator=g),
                        big.config.kv_lora_rank)
    tables, first = torch.zeros(b, eng.max_blocks, dtype=torch.int32), 1
    for i, k in enumerate(nb): tables[i, :k] = torch.arange(first, first + k); first += k
    tables, pos = tables.to(dev), torch.tensor(lens, device=dev) - 1
    batch = StepBatch(torch.randint(0, 32000, (b,), device=dev, generator=torch.Generator(device=dev).manual_seed(1)), pos,
                      tables.long().gather(1, (pos // P)[:, None])[:, 0] * P + pos % P, tables, torch.tensor(lens, dtype=torch.int32, device=dev),
                      [], torch.arange(b, device=dev), max(lens), list(lens))
    n0 = eng.stats["plan_graph_steps"]
    eng._run_graph(batch)                        # the rule's pick; this step's inputs now sit in the graphs' buffers
    pick = "plan" if eng.stats["plan_graph_steps"] > n0 else "splits"
    kinds = {"splits": (eng.graphs[b], _SPLITS)}
    if eng.plan_graphs:
        eng._fill_plan(eng._plans[b], list(lens)); kinds["plan"] = (eng.plan_graphs[b], eng._step_plan(list(lens)))
    names = {"fp8": {"splits": "splits", "plan": "plan"}, "auto": {"splits": "03", "plan": "03b plan"}}[kv_cache_dtype]
    rows = []
    for k, ((gr, out), plan) in kinds.items():
        if k == "plan": eng._fill_plan(eng._plans[b], list(lens))
        gr.replay(); logits = out.float().clone()
        ms = bench(gr.replay)
        outside = decode_step(big, eng.kv_cache, batch, eng.decode_fns, plan).float()
        with forced(kv_cache_dtype, k):          # the same schedule through _run_graph: rule, plan on the host, copy, replay
            via = eng._run_graph(batch).float().clone()
            rg = bench(lambda: eng._run_graph(batch))
        rows.append(dict(kv_cache_dtype=kv_cache_dtype, schedule=names[k], picked=pick == k, batch=b, tokens=sum(lens), graph_ms=ms,
                         run_graph_ms=rg, graph_vs_outside=((logits - outside).norm() / outside.norm()).item(),
                         run_graph_vs_graph=((via - logits).norm() / logits.norm()).item(), logits=logits.cpu()))
    del eng; gc.collect()
    return rows


def _smoke_env():
    "CPU check of this script: fake CUDA graphs that rerun the captured step, the FP8 oracle, perf_counter timing, small lengths."
    import contextlib, inspect
    cap = []
    class FakeGraph:
        def replay(self): self.out.copy_(self.fn())
        def pool(self): return None
    @contextlib.contextmanager
    def fake_graph(g, pool=None): cap.append(g); yield; cap.pop()
    orig = E.decode_step
    def rec(*a, **k):
        out = orig(*a, **k)
        if cap: cap[-1].fn, cap[-1].out = (lambda: orig(*a, **k)), out
        return out
    E.decode_step = rec
    torch.cuda.CUDAGraph, torch.cuda.graph, torch.cuda.synchronize = FakeGraph, fake_graph, lambda *a: None
    exec(inspect.getsource(E.LLMEngine.capture_cuda_graphs).replace(
        'if self.device.type != "cuda": raise ValueError("CUDA graphs need the model on a CUDA device")', "pass"), vars(E))
    E.fp8_decode_route = lambda *a, **k: "ref"
    E.bf16_decode_route = lambda *a, **k: True        # the bf16 plan graph too (03b's kernel by Triton's interpreter)
    cfg = tiny(kv_lora_rank=512, qk_rope_head_dim=64, num_attention_heads=16, initializer_range=0.1, max_position_embeddings=131072, vocab_size=32000)
    return InfiniteContextForCausalLM(cfg).to(torch.bfloat16).eval(), [130, 64, 700], "cpu", \
        (lambda f: (lambda t0: (f(), (time.perf_counter() - t0) * 1e3)[1])(time.perf_counter()))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    smoke = "--smoke" in argv
    key, kv_cache_dtype, out_pt = [a for a in argv if a != "--smoke"]
    if kv_cache_dtype not in ("fp8", "auto"): sys.exit(f"kv_cache_dtype must be 'fp8' or 'auto', got {kv_cache_dtype!r}")
    if smoke:
        big, lens, dev, bench = _smoke_env()
        label = "smoke"
    else:
        import triton
        bench = lambda f: triton.testing.do_bench(f, warmup=3, rep=100, return_mode="median")
        dev = "cuda"
        torch.manual_seed(0)                     # as 06a's setup cell builds it: the same weights in every process
        with torch.device(dev): big = InfiniteContextForCausalLM(ic_1b()).to(torch.bfloat16).eval()
        label, lens, _ = _bench_shape(tuple(json.loads(key)), 64)
    rows = ragged_graph_step(big, lens, kv_cache_dtype, dev=dev, bench=bench)
    torch.save([r.pop("logits") for r in rows], out_pt + ".tmp"); __import__("os").replace(out_pt + ".tmp", out_pt)
    print(json.dumps(dict(label=label, lens=lens, rows=rows)))


if __name__ == "__main__": main()

"""r5fix bisection (session 8): why 06a's ragged FP8 graph step got ~0.56 ms slower between fa7e07c and b3ae180.
Runs engines in the order given (e.g. `fp8,auto,fp8`) over the ragged 48 x 0.5k-16k batch of ic_1b (or `tiny` on CPU with
fake graphs: --tiny), and for each: every captured graph's replay time, the FP8/bf16 attention kernel of layer 0 alone
(eager, splits and plan where the engine has one) on the engine's cache and on a fresh copy of it, and where the cache lies.
Works with the old (fa7e07c) and the new engine: it uses only what both have (the old cell's logic)."""
import gc, json, sys, time
import torch
from infinitecontext.engine import LLMEngine, StepBatch, _store_rows, _SPLITS, _latent_decode
from infinitecontext.mla import tiny, ic_1b
from infinitecontext.model import InfiniteContextForCausalLM

order, tag = sys.argv[1].split(","), sys.argv[2]
TINY = "--tiny" in sys.argv
dev = "cpu" if TINY else "cuda"
if TINY:
    bench = lambda f, **k: (lambda t: (f(), (time.perf_counter() - t) * 1e3)[1])(time.perf_counter())
else:
    import triton
    bench = lambda f, **k: triton.testing.do_bench(f, warmup=3, rep=k.get("rep", 100), return_mode="median")
torch.manual_seed(0)
with torch.device(dev): big = InfiniteContextForCausalLM(tiny() if TINY else ic_1b()).to(torch.bfloat16 if not TINY else torch.float32).eval()
if TINY: lens = [100, 37, 300, 64]
else:
    from infinitecontext.kernels_fp8 import _bench_shape
    lens = _bench_shape(("ragged", 48, 16), 64)[1]

def free_gpu():
    gc.collect()
    if not TINY: torch.cuda.empty_cache()

def run(kv_cache_dtype, P=64):
    b, nb = len(lens), [-(-n // P) for n in lens]
    big.config.max_position_embeddings = max(131072, max(lens) + P)
    eng = LLMEngine(big, max_model_len=max(lens) + P, num_blocks=2 + sum(nb), max_num_seqs=b, kv_cache_dtype=kv_cache_dtype, page_size=P)
    big.config.max_position_embeddings = 131072
    if not TINY: eng.capture_cuda_graphs(buckets=(b,))
    g, n = torch.Generator(device=dev).manual_seed(0), eng.kv_cache.shape[1] * P
    for kv in eng.kv_cache:
        for a in range(0, n, 1 << 18):
            m = min(1 << 18, n - a)
            _store_rows(kv, torch.arange(a, a + m, device=dev), torch.randn(m, eng.width, device=dev, dtype=torch.bfloat16, generator=g).to(big.dtype),
                        big.config.kv_lora_rank)
    tables, first = torch.zeros(b, eng.max_blocks, dtype=torch.int32), 1
    for i, k in enumerate(nb): tables[i, :k] = torch.arange(first, first + k); first += k
    tables, pos = tables.to(dev), torch.tensor(lens, device=dev) - 1
    batch = StepBatch(torch.randint(0, 32000 if not TINY else 100, (b,), device=dev, generator=torch.Generator(device=dev).manual_seed(1)), pos,
                      tables.long().gather(1, (pos // P)[:, None])[:, 0] * P + pos % P, tables, torch.tensor(lens, dtype=torch.int32, device=dev),
                      [], torch.arange(b, device=dev), max(lens), list(lens))
    res = dict(tag=tag, cache=kv_cache_dtype, kv_ptr_mb=eng.kv_cache.data_ptr() / 2**20, kv_gb=eng.kv_cache.numel() * eng.kv_cache.element_size() / 1e9,
               alloc_gb=(torch.cuda.memory_allocated() / 1e9 if not TINY else 0), reserved_gb=(torch.cuda.memory_reserved() / 1e9 if not TINY else 0))
    plan = None
    if not TINY:
        eng._run_graph(batch)
        kinds = {"splits": eng.graphs[b]}
        if eng.plan_graphs:
            eng._fill_plan(eng._plans[b], list(lens)); kinds["plan"] = eng.plan_graphs[b]; plan = eng._step_plan(list(lens))
        for k, (gr, out) in kinds.items():
            if k == "plan": eng._fill_plan(eng._plans[b], list(lens))
            gr.replay(); torch.cuda.synchronize()
            res[f"graph_{k}"] = bench(gr.replay)
    # layer 0's attention kernel alone, eager: on the engine's cache and on a fresh copy (placement)
    attn = big.model.layers[0].self_attn
    q = torch.randn(b, 1, attn.h, attn.r + attn.d_rope, device=dev, generator=torch.Generator(device=dev).manual_seed(2)).to(big.dtype)
    kv0, kvc = eng.kv_cache[0], eng.kv_cache[0].clone()
    for name, kv in (("kern", kv0), ("kern_copy", kvc)):
        for k, p in (("splits", None), ("plan", plan)):
            if k == "plan" and p is None: continue
            f = lambda: _latent_decode(q, kv, tables, batch.dec_seqlens, attn.scale, attn.r, eng.max_model_len, p)
            f(); res[f"{name}_{k}_us"] = bench(f, rep=50) * 1e3
    res["run_graph"] = bench(lambda: eng._run_graph(batch)) if not TINY else None
    # the eager step (split grid) and its kernels by name: which kernel carries the difference
    from infinitecontext.engine import decode_step
    fs = lambda: decode_step(big, eng.kv_cache, batch, eng.decode_fns, _SPLITS)
    fs(); res["eager_splits"] = bench(fs)
    try:
        from torch.profiler import profile, ProfilerActivity
        act = [ProfilerActivity.CPU] if TINY else [ProfilerActivity.CUDA]
        with profile(activities=act) as prof:
            fs()
            if not TINY: torch.cuda.synchronize()
        tot = {}
        for e in prof.events():
            if TINY: t = e.cpu_time
            elif e.device_type.name == "CUDA": t = e.time_range.elapsed_us()
            else: continue
            tot[e.name[:60]] = tot.get(e.name[:60], 0) + t
        res["prof_top"] = sorted(((round(v, 1), k) for k, v in tot.items()), reverse=True)[:9]; res["prof_sum_us"] = round(sum(tot.values()), 1)
    except Exception as ex: res["prof_err"] = repr(ex)[:200]
    print("AB " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}), flush=True)
    del eng, kv0, kvc; free_gpu()

import infinitecontext.engine as _E
print(torch.cuda.get_device_name() if not TINY else "cpu", tag, order, _E.__file__, "new code" if hasattr(_E, "fast_plan") else "old code", flush=True)
for o in order: run(o)

#| gpu
# per shape: kernel time (CUDA-graph replay) and eager time (do_bench of the call, Python included), each against 03's bf16 kernel
for shape in dict.fromkeys(x["shape"] for x in rows):
    b = next(x for x in rows if x["shape"] == shape and x["provider"] == "bf16 (03)")
    print(f"{shape}: 03 bf16 graph {b['graph_ms']:.3f} ms, eager {b['ms']:.3f} ms")
    for x in rows:
        if x["shape"] == shape and x["provider"] != "bf16 (03)" and x["graph_ms"]:
            print(f"  {x['provider']:<28} graph {x['graph_ms']:.3f} ms = {b['graph_ms'] / x['graph_ms']:.2f}x | eager {x['ms']:.3f} ms = {b['ms'] / x['ms']:.2f}x")
# per tile at 128 x 8k: 128 programs (one per SM), 128 tiles each
b = next((x for x in rows if x["shape"] == "128 x 8k, h16" and x["provider"] == "bf16 (03)"), None)
if b: print(f"128 x 8k, us per 64-token tile per SM, kernel time (the 1.8x goal allows {b['graph_ms'] / 1.8 * 1e3 / 128:.2f}):")
for x in rows if b else []:
    if x["shape"] == "128 x 8k, h16" and x["provider"].startswith("03e") and x["graph_ms"]:
        print(f"  {x['provider']:<28} {x['graph_ms'] * 1e3 / 128:.2f}")

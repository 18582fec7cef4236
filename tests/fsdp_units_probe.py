"Run under torchrun (2 gloo ranks): bytes of whole (gathered) parameters per rank while decoder block 1 runs its forward, for two FSDP2 layouts."
import json, sys
import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor
from infinitecontext.train import TrainConfig, build_model, parallelize, fsdp_units, init_distributed

def probe(units):
    cfg = TrainConfig(parallel="fsdp", seq_len=32)
    model = parallelize(build_model(cfg, None, torch.device("cpu"), meta=True), cfg, torch.device("cpu"), units=units)
    seen = {}
    def hook(mod, args):
        ps = list(model.parameters())
        seen["whole"] = sum(p.numel() * p.element_size() for p in ps if not isinstance(p, DTensor))
        seen["shard"] = sum(p.to_local().numel() * p.element_size() for p in ps if isinstance(p, DTensor))
    model.model.layers[1].register_forward_pre_hook(hook)
    model(torch.zeros(1, 32, dtype=torch.long)).logits.sum().backward()
    at_rest = sum(p.to_local().numel() * p.element_size() for p in model.parameters())
    return dict(whole_during_block1=seen["whole"], sharded_during_block1=seen["shard"], sharded_at_rest=at_rest)

if __name__ == "__main__":
    env = init_distributed()
    torch.manual_seed(0)
    r = dict(blocks_root=probe(lambda m: list(m.model.layers)), torchtitan=probe(fsdp_units))
    core = build_model(TrainConfig(), None, torch.device("meta"))
    r["root_bytes"] = sum(p.numel() * 4 for m in (core.model.embed_tokens, core.model.norm, core.lm_head) for p in m.parameters())
    if env.rank == 0: print(json.dumps(r), flush=True)
    dist.barrier(); dist.destroy_process_group()

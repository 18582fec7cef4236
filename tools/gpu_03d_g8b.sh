# 03d's second registers call (issue 15, helper gluon8), with the new default (q_pe in shared memory, order 3): the stored
# `#| gpu` outputs of "Registers for the refill point" come from $OUT/cell_*.txt. FlashMLA's JIT build in the background;
# Triton's kernel cache warmed by one process per variant (logs kept off $OUT); the compile report of NEW_VARIANTS under the
# box's Triton; GPU correctness of NEW_VARIANTS on all 7 cases beside the GPU tests (new variants, the defaults' relatives,
# reuse-vs-rebuilt) and compute-sanitizer; then, alone on the GPU, the bench of NEW_VARIANTS at every shape beside
# FlashMLA, 03 and 03c, and two more rounds of the default and the 06:16 default.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; mkdir -p /tmp/warm
WARM=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS as G, NEW_VARIANTS as N; print(' '.join(str(i) for i, k in enumerate(G) if k in N or 'default' in k or 'q_pe' in k or 'producer' in k))")
for i in $WARM; do timeout 150 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > /tmp/warm/warm_$i.txt 2>&1 & done
timeout 150 python -c "from infinitecontext.kernels_gluon import *
for v, kw in NEW_VARIANTS.items():
    r = gluon_report(True, **{k: x for k, x in kw.items() if k != 'split_rule'})
    print(f\"{v:<42} registers {r['registers']}, spills {r['spill_bytes']:>3} B, shared {r['shared_kb']} KB, wgmma {r['wgmma']}, TMA {r['tma_loads']}\")" > $OUT/cell_report.txt 2>&1 &
wait; grep -l -E "Error|error|FAIL" /tmp/warm/warm_*.txt | head; quiet $OUT/cell_report.txt
date -u +%H:%M:%S
timeout 170 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_gluon(variants=NEW_VARIANTS))" > $OUT/cell_check.txt 2>&1 &
timeout 200 python -m pytest -q -p no:cacheprovider tests/test_kernels_gluon.py -k "q_pe or producer or default or reuse" > $OUT/cell_pytest.txt 2>&1 &
timeout 170 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_gluon --memcheck-new 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_check.txt | tail -9; tail -1 $OUT/cell_pytest.txt; grep -E "FAILED|Error" $OUT/cell_pytest.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 45
FLASHMLA_DIR=$PWD/.flashmla timeout 150 python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon(out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'], variants=NEW_VARIANTS, all_heads=True)" > $OUT/cell_bench.txt 2>&1
grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_bench.txt | head -72
date -u +%H:%M:%S
FLASHMLA_DIR=$PWD/.flashmla timeout 100 python -c "import os; from pathlib import Path; from infinitecontext.kernels_gluon import *
for r in (2, 3):
    rows = bench_gluon(out_dir=Path(os.environ['OUT']) / f'r{r}', flashmla_dir=os.environ['FLASHMLA_DIR'], variants={k: GLUON_VARIANTS[k] for k in ('the default', '06:16 default (q_pe in registers, order 1)')}, all_heads=True, extra=False)" > $OUT/cell_rounds.txt 2>&1
grep -v -E "nanobind|leaked|refleaks|skipped|^\{" $OUT/cell_rounds.txt | head -40; date -u +%H:%M:%S

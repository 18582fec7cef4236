# 03d's first registers call (issue 15, helper gluon8; exploration: its outputs are not stored, gpu_03d_g8b.sh re-measured
# everything with the new default and its cell_*.txt are the stored outputs). FlashMLA's JIT build in the background; Triton's kernel cache warmed by one process per variant (this
# section's candidates and the ones the GPU tests select); the compile report of the candidates under the box's Triton;
# then GPU correctness of NEW_VARIANTS on all 7 cases beside the GPU tests (new variants, the default's relatives and the
# reuse-vs-rebuilt test) and compute-sanitizer; then, alone on the GPU, the bench of NEW_VARIANTS at every shape beside
# FlashMLA, 03 and 03c, and a second round of the default and the best candidates.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
gpu_header
WARM=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS as G, NEW_VARIANTS as N; print(' '.join(str(i) for i, k in enumerate(G) if k in N or 'default' in k))")
for i in $WARM; do timeout 150 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > $OUT/warm_$i.txt 2>&1 & done
timeout 150 python -c "from infinitecontext.kernels_gluon import *
for v, kw in NEW_VARIANTS.items():
    r = gluon_report(True, **{k: x for k, x in kw.items() if k != 'split_rule'})
    print(f\"{v:<42} registers {r['registers']}, spills {r['spill_bytes']:>3} B, shared {r['shared_kb']} KB, wgmma {r['wgmma']}, TMA {r['tma_loads']}\")" > $OUT/cell_report.txt 2>&1 &
wait; grep -l -E "Error|error|FAIL" $OUT/warm_*.txt | head; cat $OUT/cell_report.txt | grep -v -E "nanobind|leaked|refleaks"
date -u +%H:%M:%S
timeout 170 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_gluon(variants=NEW_VARIANTS))" > $OUT/cell_check.txt 2>&1 &
timeout 170 python -m pytest -q -p no:cacheprovider tests/test_kernels_gluon.py -k "q_pe or producer or default or reuse" > $OUT/pytest_gpu.txt 2>&1 &
timeout 170 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_gluon --memcheck-new 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_check.txt | tail -9; tail -1 $OUT/pytest_gpu.txt; grep -E "FAILED|Error" $OUT/pytest_gpu.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 45
FLASHMLA_DIR=$PWD/.flashmla timeout 150 python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon(out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'], variants=NEW_VARIANTS, all_heads=True)" > $OUT/cell_bench.txt 2>&1
grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_bench.txt | head -75
date -u +%H:%M:%S; mkdir -p $OUT/r2
FLASHMLA_DIR=$PWD/.flashmla timeout 90 python -c "import os; from infinitecontext.kernels_gluon import *
best = ('the default', 'q_pe in shared memory', 'no producer', 'no producer + q_pe in smem', 'no producer + q_pe + async t-1')
rows = bench_gluon(out_dir=os.environ['OUT'] + '/r2', flashmla_dir=os.environ['FLASHMLA_DIR'], variants={k: GLUON_VARIANTS[k] for k in best}, all_heads=True, extra=False)" > $OUT/cell_bench2.txt 2>&1
grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_bench2.txt | head -30; date -u +%H:%M:%S

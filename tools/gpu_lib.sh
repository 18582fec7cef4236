# The steps the GPU scripts (tools/gpu_*.sh) share, written once: `source tools/gpu_lib.sh` from the repository root on
# the device machine, where `run` sets $OUT (the folder whose files come back).
#   flashmla_build        unpack flashmla.tar.xz (beside the script's tree) and JIT-build FlashMLA in the background
#                         (~90 s; "built <s>" lands in $OUT/flashmla_build.txt): a peer to time against, never the project
#   flashmla_wait [N] [L] wait up to 2N seconds (default 60) for that build, then show its last L lines (default 2)
#   gpu_header            the card and driver (also to $OUT/gpu.txt) and the UTC time
#   quiet FILE...         a log without the interpreter-exit noise of nanobind's leak reports
flashmla_build() {
  tar -xJf flashmla.tar.xz
  (python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1 &)
}
flashmla_wait() {
  for i in $(seq ${1:-60}); do grep -q built $OUT/flashmla_build.txt 2>/dev/null && break; sleep 2; done; tail -${2:-2} $OUT/flashmla_build.txt
}
gpu_header() { nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt; date -u +%H:%M:%S; }
quiet() { grep -v -E "nanobind|leaked|refleaks" "$@"; }
#   el MESSAGE            MESSAGE with the seconds since the script started
#   whl_deps              fastcore, transformers and pytest from the carried .whl/ folder if the box lacks them
#   nb_cells NAME T SEL.. with $NB set and run from nbs/: tools/gpu_03b_cells.py on the #| gpu cells matching SEL.., at most T
#                         seconds, into $OUT/cells_NAME.ipynb (log in $OUT/log.txt)
T0=$(date +%s); el() { echo "[t=$(( $(date +%s) - T0 ))s] $*"; }
whl_deps() { python -c "import fastcore, transformers, pytest" 2>/dev/null || python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > $OUT/pip.txt 2>&1; }
nb_cells() { local name=$1 t=$2; shift 2; timeout $t python ../tools/gpu_03b_cells.py $NB $OUT/cells_$name.ipynb "$@" -p out_dir=$OUT >> $OUT/log.txt 2>&1; el "$name exit $?"; }

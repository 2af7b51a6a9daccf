# Two commands on a fresh machine with only Python: `make demo` and `make test`.
# Each creates .venv if needed, installs the pinned CPU torch wheel first when the
# venv has no torch (an unpinned torch would pull a multi-GB CUDA build), then the package.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench gpu-check install clean figures

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lasso-torch run configs/why_sparsity.yaml

# two workers, one test file each at a time (a file's module fixtures and the README's
# blocks stay in one process, in order); each worker runs torch on one thread
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# the README's images (docs/img) from the shipped configs, within their size budget
figures: $(STAMP)
	$(BIN)/python experiments/readme_figures.py

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python experiments/benchmark.py --quick

gpu-check: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python experiments/gpu_check.py

clean:
	rm -rf $(VENV) build *.egg-info

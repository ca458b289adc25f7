# Two commands do all the set-up on a fresh clone (see README):
#   make figures   create .venv, install, execute every notebook (regenerates figures/ and the notebooks' outputs)
#   make test      create .venv, install, lint, unit tests, and every notebook validated by nbval
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Where the first install takes torch from (README, "Which torch you get"). Empty: the default index, where
# torch==2.13.0 for Linux is the CUDA 13 build (~527 MB plus nvidia-* packages). For the CPU-only wheel:
#   make figures TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# Worker processes of `make unit` and `make notebooks-test` (pytest-xdist; each test file, each notebook, stays on one
# worker). 1 runs them in this process, one after the other.
TEST_JOBS ?= 2
XDIST    = $(if $(filter-out 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)

.PHONY: install figures test unit notebooks-test lint benchmark paper-grid consistency beyond site clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(PY) -m pip install --quiet --index-url $(TORCH_INDEX) "$$(grep -E '^torch==' requirements.txt)")
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (minde)" >/dev/null
	touch $(STAMP)

figures: $(STAMP)
	$(PY) -m minde.notebooks $(NOTEBOOKS)

lint: $(STAMP)
	$(PY) -m ruff check minde tests benchmarks

unit: $(STAMP)
	$(PY) -m pytest $(XDIST) tests

notebooks-test: $(STAMP)
	env -u MINDE_CHECKS $(PY) -m pytest $(XDIST) --nbval-lax --nbval-current-env -p no:cacheprovider $(NOTEBOOKS)

test: lint unit notebooks-test

benchmark: $(STAMP)
	$(PY) benchmarks/speed.py
	$(PY) benchmarks/accuracy.py

# The long runs behind data/results/ (hours; resumable: rerun to continue, `kill` keeps finished cells)
paper-grid: $(STAMP)
	bash benchmarks/run_paper_grid.sh

consistency: $(STAMP)
	$(PY) -m minde.consistency run --protocol cpu --tests a,b,c --rows 0-28:4 --estimators MINDE-C,MINDE-J,InfoNCE,NWJ --seeds 0-2 --jobs 2

beyond: $(STAMP)
	bash benchmarks/run_beyond.sh

# The book: the committed notebooks (not re-executed), figure index, API and reproduce pages as a static site
# in build/site/ (open build/site/index.html, offline); its own pinned toolchain, installed once
SITE_STAMP = $(VENV)/.installed-site

$(SITE_STAMP): $(STAMP) requirements-site.txt
	$(PY) -m pip install --quiet -c requirements.txt -r requirements-site.txt
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(PY) docs/build.py

clean:
	rm -rf $(VENV) .pytest_cache

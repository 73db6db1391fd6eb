# Two commands do all the set-up on a fresh machine:
#   make book   build the website into _build/html (creates .venv and installs everything first)
#   make test   run every test: rnnlib unit tests, every notebook twice (the second time perturbed), a clean -W
#               build, the browser test, and the benchmark report
# Both use the virtual environment in $(VENV) (created when missing, refreshed when requirements change).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
JOBS   ?= 2
export RNNLIB_PROGRESS ?= 0
# One BLAS/OpenMP thread per process: the tests run two notebooks at a time on a 2-core machine, and
# oversubscribed OpenBLAS threads made one chapter 10-40x slower (measured). Override on a bigger machine.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYTHONHASHSEED = 0

.PHONY: book book-cached test unit notebooks notebooks-perturbed site browser bench venv lab clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rnn book)" > /dev/null
	touch $(STAMP)

# The website, built from scratch with every notebook executed; any warning or failing cell fails it.
book: $(STAMP)
	rm -rf _build && mkdir -p _build
	RNNLIB_BENCH_LOG=$(CURDIR)/_build/explorers.jsonl $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The site is in _build/html (open _build/html/index.html)."

# Quicker local rebuilds: re-executes only notebooks that changed (does not notice rnnlib changes).
book-cached: $(STAMP)
	sed 's/execute_notebooks: force/execute_notebooks: cache/' _config.yml > _build_config_cached.yml
	$(BIN)/jupyter-book build . --config _build_config_cached.yml -W -n --keep-going; \
	status=$$?; rm -f _build_config_cached.yml; exit $$status

unit: $(STAMP)
	$(BIN)/pytest tests -m "not browser" -n $(JOBS) -q

notebooks: $(STAMP)
	$(BIN)/pytest --nbval-lax --nbval-current-env book/ -n $(JOBS) --dist loadfile -q

# Every notebook again, as another machine and another reader would run it: every seed rnnlib hands out shifted
# (RNNLIB_SEED_OFFSET), two BLAS threads, torch's plain CPU kernels instead of this CPU's SIMD ones, and MKL's
# compatible code path (MKL_CBWR). The asserts check claims about the phenomenon, so they must hold here too.
# One notebook at a time (two threads each).
PERTURBED_OFFSET ?= 1
notebooks-perturbed: $(STAMP)
	RNNLIB_SEED_OFFSET=$(PERTURBED_OFFSET) OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 \
	ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE $(BIN)/pytest --nbval-lax --nbval-current-env book/ -q

site: book

# The built site in headless chromium, and the live path: chapter 1 run in JupyterLab with its slider moved.
browser: $(STAMP)
	$(BIN)/pytest tests/test_site.py tests/test_lab.py -m browser -q

# Run the chapters yourself, with the book's kernel.
lab: $(STAMP)
	$(BIN)/jupyter lab book/

bench: $(STAMP)
	$(BIN)/python benchmarks/report.py

# Everything, in the order a failure is cheapest to find.
test: $(STAMP)
	$(MAKE) unit
	$(MAKE) notebooks
	$(MAKE) notebooks-perturbed
	$(MAKE) book
	$(MAKE) browser
	$(MAKE) bench

clean:
	rm -rf _build .pytest_cache

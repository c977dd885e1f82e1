# Sizheng — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-dev lint migrate demo bench clean

# A stamp per dependency set: re-install only when pyproject.toml changes.
$(VENV)/.stamp-run: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "无法创建虚拟环境：请先安装 python3-venv（Debian: apt-get install python3-venv）。"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.stamp-run

setup-dev: $(VENV)/.stamp-dev

migrate: setup
	$(PY) -m sizheng migrate --no-input

## make run: set up, migrate, create the demo data once, then serve with worker and scheduler.
run: setup
	$(PY) -m sizheng serve --host $(HOST) --port $(PORT)

## make test: lint, type-check the pure modules, check migrations, run the whole suite.
test: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	SIZHENG_TESTING=1 $(PY) -m sizheng makemigrations --check --dry-run
	SIZHENG_TESTING=1 $(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The bench extra holds baselines only benchmarks use (pymcdm for the assessment round).
$(VENV)/.stamp-bench: $(VENV)/.stamp-dev
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $@

bench: $(VENV)/.stamp-bench
	$(PY) -m bench

clean:
	rm -rf $(VENV) staticfiles test-artifacts dist

## make bundle: the offline install bundle for intranets, dist/sizheng-bundle-<version>.tar.gz (docs/deploy.md).
.PHONY: bundle
bundle: setup
	$(PY) scripts/bundle.py --out dist

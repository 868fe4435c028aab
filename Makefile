# `make serve` and `make test` each set themselves up on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	$(VENV)/bin/python tools/install_turn_weights.py
	touch $(STAMP)

.PHONY: setup serve test lint bench
setup: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/podium serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy agents media server store clients
	$(VENV)/bin/ruff format --check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy agents media server store clients
	$(VENV)/bin/pytest -q --durations=15

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/a2a_throughput.py

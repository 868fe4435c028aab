# `make serve` and `make test` each set themselves up on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

# uv installs the same requirements as pip in seconds; pip is the fallback if uv cannot run.
# Bytecode is compiled once here (as pip does), so no process (servers, recognizer workers,
# replicas in the tests) compiles its imports again, even where .pyc files are not written.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(VENV)/bin/python -e '.[test]' \
	  || $(VENV)/bin/pip install --quiet -e '.[test]'
	$(VENV)/bin/python -m compileall -q -j 0 agents media server store clients
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

# Tests run on two workers, one module each at a time (most of a test is real-time audio, so
# two share two cores), longest first (tests/conftest.py). The type check runs beside them
# at low priority, on what they leave idle; both must pass.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	nice -n 15 $(VENV)/bin/mypy agents media server store clients & types=$$!; \
	  $(VENV)/bin/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15; \
	  tests=$$?; \
	  wait $$types; typed=$$?; \
	  [ $$typed -eq 0 ] || echo "mypy found problems (above)"; \
	  exit $$(( tests || typed ))

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/a2a_throughput.py

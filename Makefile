# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
# Every target first makes sure the project-local virtual environment in .venv exists
# and matches pyproject.toml; it is rebuilt when missing, broken or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv demo test bench lint vectors clean

venv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sensorkit needs Python >= 3.11; set PYTHON=/path/to/python3.11")'
	@want="$$($(PYTHON) -c 'import hashlib, sys; print(sys.version.split()[0], hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"; \
	if [ -x $(BIN)/python ] && $(BIN)/python -c 'import sensorkit' 2>/dev/null \
	   && [ "$$(cat $(VENV)/.stamp 2>/dev/null)" = "$$want" ]; then exit 0; fi; \
	echo "Setting up $(VENV) (first run: a minute or two)..."; \
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	&& $(BIN)/python -m pip install --quiet --upgrade pip \
	&& $(BIN)/python -m pip install --quiet -e '.[dev]' \
	&& echo "$$want" > $(VENV)/.stamp

demo: venv
	$(BIN)/sensorkit demo

# one pytest worker per core; tests that share a resource beyond the process (LSL's
# network discovery) carry an xdist_group mark and run in one worker
test: venv lint
	$(BIN)/python -m pytest -n logical --dist loadgroup

lint: venv
	$(BIN)/ruff check sensorkit tests benchmarks docs/tools
	$(BIN)/lint-imports

# benchmarks get their own environment: the comparison packages (mobgap and what it pulls
# in) must not leak into the test environment
BENCH := .venv-bench
bench:
	@[ -x $(BENCH)/bin/python ] || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet -e '.[dev,bench]'
	$(BENCH)/bin/python benchmarks/run_all.py

vectors:
	$(MAKE) -C firmware_protocols/sk1/firmware vectors && $(MAKE) -C firmware_protocols/sk1/firmware clean

clean:
	rm -rf $(VENV) $(BENCH) .pytest_cache .ruff_cache

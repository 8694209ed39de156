# Vigil: two commands on a fresh machine with Python 3.11 -- `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Typed service code (STYLE.md rule 14): the CLI, config, errors and the sharing layer pass mypy.
TYPED  := src/vigil/cli.py src/vigil/config.py src/vigil/errors.py src/vigil/demo.py src/vigil/sharing \
          src/vigil/coverage/commands.py src/vigil/fusion/commands.py

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@echo "compiling the numba kernels once (~1.5 min on 2 cores; numba's cache=True files, reused by every run)"
	$(VENV)/bin/vigil demo --out $(VENV)/warmup >/dev/null
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vigil demo --out out/demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/mypy $(TYPED)
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/mypy $(TYPED)

bench: $(STAMP)
	$(PY) bench/bench_propagation.py
	$(PY) bench/bench_coverage.py

clean:
	rm -rf $(VENV) out .pytest_cache

# Vigil: two commands on a fresh machine with Python 3.11 -- `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Typed code (docs/style.md rule 14): the CLI, config, errors, the app, sharing and API layers and fusion pass mypy.
TYPED  := src/vigil/cli.py src/vigil/config.py src/vigil/errors.py src/vigil/app src/vigil/sharing src/vigil/api \
          src/vigil/coverage/commands.py src/vigil/fusion

.PHONY: demo test lint bench install clean web chromium

# The console's globe: CesiumJS from npm (package-lock.json), only the files the page loads, served by
# `vigil serve` from a git-ignored folder. No network at run time; npm is needed once, here.
WEB_CESIUM := src/vigil/web/cesium
CESIUM_BUILD := node_modules/cesium/Build/Cesium

# Install, then compile the numba kernels a first run needs into numba's cache (`vigil warmup`: the signatures
# of src/vigil/data/warmup-kernels.txt, one process per core; the cache files land in src/vigil/**/__pycache__
# and every later run loads them). pip --no-compile: Python byte-compiles a module when it is first imported.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	$(VENV)/bin/vigil warmup
	@touch $(STAMP)

install: $(STAMP)

# The demo replaces its own previous output (--force); other commands never overwrite without it.
# The globe's files (`make web`: npm, mostly waiting on disk) are fetched while the install runs.
demo:
	@{ $(MAKE) --no-print-directory web || echo "warning: the dashboard's globe needs 'make web' (npm); the API works without it"; } & \
	  web=$$!; $(MAKE) --no-print-directory install; rc=$$?; wait $$web; exit $$rc
	$(VENV)/bin/vigil demo --out out/demo --force

web: $(WEB_CESIUM)/Cesium.js

$(WEB_CESIUM)/Cesium.js: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found (apt-get install npm)"; exit 2; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(WEB_CESIUM) && mkdir -p $(WEB_CESIUM)
	for part in Cesium.js Assets Workers ThirdParty Widgets; do cp -r $(CESIUM_BUILD)/$$part $(WEB_CESIUM)/; done

# Debian's Chromium for the browser test (never `playwright install`: no browser downloads).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: $(STAMP) web chromium
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy $(TYPED)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy $(TYPED)
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/bench_propagation.py
	$(PY) bench/bench_coverage.py

clean:
	rm -rf $(VENV) out .pytest_cache

# Two commands for a fresh machine: `make run` and `make test` (README).
# Everything they need is installed here, by the project's own files.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STATSD := tools/statsd/node_modules/statsd/stats.js
# The optional compiled core: each module that has a .pxd beside its .py (setup.py), rebuilt in place when either
# changes. Without a C compiler (CC=false) the build warns and the same .py sources run.
CYTHON_SOURCES := setup.py $(shell find agents hub metrics engine -name '*.pxd' | sed 's/\.pxd$$/.py/' | xargs ls 2>/dev/null) \
                  $(shell find agents hub metrics engine -name '*.pxd')
# The tests run once more on the Python sources (ENGINE_PURE_PYTHON=1): results must not depend on compilation.
PURE_TESTS := tests/agents tests/hub tests/engine/backtest tests/strategies
BUILT  := $(VENV)/.built

.PHONY: run test bench lint venv statsd-server browser clean

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,research]'
	touch $(STAMP)

$(BUILT): $(STAMP) $(CYTHON_SOURCES)
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $(BUILT)

venv: $(BUILT)

## run: set up and backtest the bundled sample (SMA trend on 600559.csv)
run: $(BUILT)
	$(BIN)/python -m engine backtest

## test: set up (Python, the StatsD test server, the headless browser) and run the whole suite
test: $(BUILT) statsd-server browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	ENGINE_PURE_PYTHON=1 $(BIN)/python -m pytest $(PURE_TESTS)

## bench: the speed and memory benchmarks; prints figures and ratios
bench: $(BUILT)
	$(BIN)/python -m benchmarks

lint: $(BUILT)
	$(BIN)/ruff check .

# The real StatsD daemon (npm `statsd`) for the integration tests. Without
# node/npm the tests that need it are skipped and say why.
statsd-server: $(STATSD)

$(STATSD): tools/statsd/package.json tools/statsd/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tools/statsd && npm ci --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the StatsD integration tests will be skipped"; \
	fi

# Chromium and its WebDriver from Debian's packages, for the tests that open report.html (and the
# daemon's dashboard) in a real headless browser. Installed when apt-get can (root); otherwise those
# tests are skipped and say why.
BROWSER := /usr/bin/chromedriver
browser: $(BROWSER)

$(BROWSER):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	else \
		echo "chromium-driver not installed and apt-get not usable here: the browser tests will be skipped"; \
	fi

clean:
	rm -rf $(VENV) tools/statsd/node_modules results .bench build
	find agents hub metrics engine strategies \( -name '*.so' -o -name '*.c' \) -delete

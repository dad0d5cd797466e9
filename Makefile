# Quotebot: `make demo` sets up and runs the demo, `make test` sets up and runs the tests.
# Both work on a fresh Debian machine with Python 3.11 (root may apt-get what is missing).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = "0" ] && echo "" || echo "sudo")

.PHONY: setup demo test lint tryton bench chromium clean

setup: $(STAMP) chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "quotebot needs Python 3.11 or newer ($(PYTHON) is $$($(PYTHON) -V))"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { echo "installing python3-venv"; $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Chromium: QUOTEBOT_CHROMIUM_PATH, else Debian's chromium and its old headless shell (what
# headless runs use; installed when we are root), else Playwright's own managed build.
chromium: $(STAMP)
	@if [ -n "$$QUOTEBOT_CHROMIUM_PATH" ] && [ -x "$$QUOTEBOT_CHROMIUM_PATH" ]; then \
	  echo "chromium: $$QUOTEBOT_CHROMIUM_PATH"; \
	elif [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromium-headless-shell ]; then \
	  echo "chromium: /usr/bin/chromium, /usr/bin/chromium-headless-shell"; \
	elif command -v apt-get >/dev/null && { [ "$$(id -u)" = "0" ] || command -v sudo >/dev/null; }; then \
	  echo "installing Debian's chromium and chromium-headless-shell"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-headless-shell; \
	elif [ -x /usr/bin/chromium ]; then \
	  echo "chromium: /usr/bin/chromium"; \
	else \
	  echo "no system Chromium: using Playwright's managed browser"; \
	  $(BIN)/playwright install chromium; \
	fi

# Set-up and the demo timed apart: a first `make demo` installs everything first.
demo:
	@t0=$$(date +%s); $(MAKE) --no-print-directory setup && t1=$$(date +%s) && \
	  $(BIN)/quotebot demo && t2=$$(date +%s) && \
	  echo "make demo: set-up took $$((t1 - t0)) s, the demo $$((t2 - t1)) s"

# The linters and the type checker first: a lint or type error fails the tests (and CI).
# Then the tests, four at a time on two cores. The tests' CPU (the suite prints it) fills the two
# cores only about 56 % of the wall time, the rest being waits on portal latency, backoff and
# killed processes; six at a time was slower still (21:08 against 19:59) and broke timing-bound
# tests. Tests that share one expensive fixture share a worker (`xdist_group`); the `slow` ones
# are handed out first. `make test JOBS=0`: one process.
JOBS ?= 4
test: lint tryton
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup

# A real Tryton for its tests: installed once per machine, today's world seeded once a day,
# here and not inside a test, where three other test processes would slow the install down.
tryton: setup
	$(BIN)/python -m sandbox.tryton

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/audit_bench.py

clean:
	rm -rf $(VENV) var test-results .pytest_cache .mypy_cache .ruff_cache

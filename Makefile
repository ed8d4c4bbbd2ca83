# Tributary — the two set-up commands are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp
NATIVE := routing/.native-stamp
ARGS ?=
AUCTION ?= ../shared/data/auctions/mainnet-7400681.json
BENCH ?= routing --auction $(AUCTION) --report bench/out/routing

.PHONY: run test check bench bench-scale install browser screenshot clean fmt

install: $(STAMP) $(NATIVE) $(NPM_STAMP) browser

# The explorer's browser test (tests/e2e/test_explorer_browser.py) drives Debian's headless
# chromium through its matching chromium-driver (selenium). Installed when missing; apt-get needs
# root (CI runs as root), elsewhere the command to run is printed and the test says it is missing.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; \
	else echo "make: as root, run: apt-get install -y chromium chromium-driver (for the browser test)"; fi

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(NATIVE)

# The routing modules mypyc compiles (setup.py, routing/native.py), built again in place when
# a routing source changes (until then routing/native.py runs the .py files, never a stale
# build). A build without a C compiler leaves the pure-Python modules.
$(NATIVE): $(wildcard routing/*.py) | $(STAMP)
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $@

# anvil, the GPv2/Uniswap contract artifacts and the CoW SDK come from npm, pinned by the lock
# file. The lock lists every platform's optional anvil binary, as npm 11 writes it, so an
# install leaves it as it is (a lock without them is rewritten by `npm install` and refused
# by `npm ci`). `npm install` rather than `npm ci`: it updates node_modules in place instead
# of deleting and refetching all of it whenever the lock changes.
$(NPM_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(BIN)/tributary serve $(ARGS)

test: install
	$(BIN)/pytest $(ARGS)

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench` runs the routing-quality benchmark; `make bench BENCH="intake"` another suite.
bench: install
	$(BIN)/python -m bench $(BENCH)

# Issue 12's scale acceptance: generated auctions of 1k, 5k, 10k orders (default market, seed
# 7) and 5k (busy market, seed 11) over $(AUCTION); every engine set, the pooled round against
# baseline's, `tributary solve --time-limit 8` as a process. About 3 minutes (2 min 40 s at load
# ~1 on 2 cores: each engine set and the process take ~8 s per auction). Not in `make test`.
SCALE := --runs 1 --cli-runs 1 --time-limit 8 --snapshot $(AUCTION)
bench-scale: install
	$(BIN)/python -m bench.solver --generate 1000,5000,10000 --seed 7 --market default $(SCALE)
	$(BIN)/python -m bench.solver --generate 5000 --seed 11 --market busy $(SCALE)

# The README's explorer screenshot, taken by the browser test (a devnet node, the demo, one
# order's route picture).
screenshot: install
	EXPLORER_SCREENSHOT=docs/explorer.png $(BIN)/pytest -q tests/e2e/test_explorer_browser.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build $(NATIVE)
	find . -path ./node_modules -prune -o -name '*.so' -print -delete

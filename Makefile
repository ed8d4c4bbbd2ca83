# Tributary — the two set-up commands are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp
ARGS ?=
AUCTION ?= ../shared/data/auctions/mainnet-7400681.json
BENCH ?= routing --auction $(AUCTION) --report bench/out/routing

.PHONY: run test check bench install clean fmt

install: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# Kilo on a fresh machine: `make demo` (train, then paper-trade) and `make test`.
# Every target makes .venv from requirements.lock first if it is missing or older
# than the lock. Variables: make demo FULL=1, make test KILO_DATA_DIR=/path/to/data.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KILO_DATA_DIR ?= ../shared/data
export KILO_DATA_DIR
export NO_MKDOCS_2_WARNING := 1
# make test PYTEST_ARGS="tests/config -n 0" runs a part of the suite
PYTEST_ARGS ?= --cov=kilo -n 2

# The quick demo trains on candles from DEMO_START on, with short PPO training, into
# models/quick (your own model sets in models/ stay as they are); FULL=1 trains every
# configured symbol on the whole history into models/ and replays 2,000 bars.
DEMO_START ?= 2025-01-01
ifeq ($(FULL),1)
DEMO_MODELS := models
DEMO_SET :=
DEMO_BARS ?= 2000
else
DEMO_MODELS := models/quick
DEMO_SET := --set data.start=$(DEMO_START) --set models.ppo.total_timesteps=8192
DEMO_BARS ?= 200
endif

.PHONY: help demo test lint docs docs-serve clean-venv

help:
	@echo "make demo          train the default symbols on the last months, paper-trade them ($(DEMO_BARS) bars)"
	@echo "make demo FULL=1   the full run: every configured symbol on the whole history"
	@echo "make test          install what the tests need, build the docs (--strict), run the tests"
	@echo "make lint          ruff, ruff format --check, mypy"
	@echo "make docs          build the documentation site into site/ (docs-serve: on :8000)"
	@echo "candles: KILO_DATA_DIR=$(KILO_DATA_DIR) (freqtrade's layout; scripts/download_data.py fetches them)"

$(BIN)/.lock-installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	touch $@

$(BIN)/.test-installed: $(BIN)/.lock-installed requirements-freqtrade.txt requirements-docs.txt
	$(BIN)/pip install -q -r requirements-freqtrade.txt -r requirements-docs.txt
	touch $@

demo: $(BIN)/.lock-installed
	@test -d "$(KILO_DATA_DIR)/binance" || { echo "no candles in $(KILO_DATA_DIR)/binance: set KILO_DATA_DIR, or run $(BIN)/python scripts/download_data.py --data-dir data (needs internet)"; exit 1; }
	$(BIN)/python scripts/trainer.py --all --models-dir $(DEMO_MODELS) $(DEMO_SET) --no-progress
	$(BIN)/python scripts/trader.py --models-dir $(DEMO_MODELS) $(DEMO_SET) --iterations $(DEMO_BARS) --state state/demo.sqlite --fresh

test: $(BIN)/.test-installed
	$(BIN)/mkdocs build --strict --quiet --site-dir site
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.lock-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: $(BIN)/.test-installed
	$(BIN)/python scripts/config_reference.py
	$(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(BIN)/.test-installed
	$(BIN)/mkdocs serve

clean-venv:
	rm -rf $(VENV)

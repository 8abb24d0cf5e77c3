# jifen — the two commands a newcomer needs:
#   make run    set up, start a local server with demo data, enrol a kiosk, open the kiosk
#   make test   set up, run the whole test suite (what .ci/run calls)
# Everything lands in .venv/ and jifen-data/ inside this folder.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= jifen-data
PORT ?= 8470

.PHONY: run test test-long bench setup clean-data lint

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	@bash docs/demo.sh "$(DATA)" "$(PORT)"

test: $(STAMP)
	$(BIN)/python -m pytest

test-long: $(STAMP)
	JIFEN_LONG=1 $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean-data:
	rm -rf $(DATA)

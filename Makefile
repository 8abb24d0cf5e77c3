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

.PHONY: run test test-long bench setup clean-data lint browser postgresql

# The console's browser tests drive Debian's Chromium with Chinese fonts (no browser
# download: the test machines may have no internet), and the wrong-clock end-to-end tests
# run the kiosk CLI under libfaketime (faketime). Installed with apt-get when missing,
# as root (CI runs as root); otherwise say what to install.
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi wqy || missing="$$missing fonts-wqy-microhei"; \
	dpkg -s faketime >/dev/null 2>&1 || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing (browser and wrong-clock tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "the browser and wrong-clock tests need:$$missing (run as root: apt-get install$$missing)"; \
	  fi; \
	fi

# The PostgreSQL backend's tests start a throwaway cluster (tests/pgcluster.py) with the
# system's initdb and pg_ctl; installed with apt-get when initdb is missing, as root.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing postgresql (the PostgreSQL backend's tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  else \
	    echo "the PostgreSQL backend's tests need initdb (run as root: apt-get install postgresql)"; \
	  fi; \
	fi

$(STAMP): pyproject.toml | browser postgresql
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

# The main job: a local server on the embedded SQLite default with demo data, a kiosk
# enrolled to it, and the kiosk app in this terminal. Quitting the app stops the server.
run: $(STAMP)
	@set -e; \
	$(BIN)/jifen-server demo-data --data $(DATA)/server >/dev/null; \
	$(BIN)/jifen-server serve --data $(DATA)/server --port $(PORT) > $(DATA)/server.log 2>&1 & \
	SERVER=$$!; trap "kill $$SERVER 2>/dev/null" EXIT; \
	for i in $$(seq 100); do curl -sf http://127.0.0.1:$(PORT)/v1/health >/dev/null 2>&1 && break; \
	  $(BIN)/python -c "import httpx,sys; httpx.get('http://127.0.0.1:$(PORT)/v1/health', timeout=0.2)" 2>/dev/null && break; sleep 0.1; done; \
	if [ ! -f $(DATA)/kiosk/kiosk.key ]; then \
	  CODE=$$($(BIN)/jifen-server enroll-code --data $(DATA)/server --shop S01 --json | $(BIN)/python -c "import json,sys; print(json.load(sys.stdin)['code'])"); \
	  $(BIN)/jifen-kiosk enroll --data $(DATA)/kiosk --server http://127.0.0.1:$(PORT) --code $$CODE; \
	fi; \
	$(BIN)/jifen-kiosk sync --data $(DATA)/kiosk || true; \
	echo "server: http://127.0.0.1:$(PORT) (log: $(DATA)/server.log); demo operator op1, PIN 1234"; \
	echo "staff console: http://127.0.0.1:$(PORT)/ as admin; password in $(DATA)/server/admin-password.txt"; \
	$(BIN)/jifen-kiosk --data $(DATA)/kiosk

test: $(STAMP)
	$(BIN)/python -m pytest

test-long: $(STAMP)
	JIFEN_LONG=1 $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean-data:
	rm -rf $(DATA)

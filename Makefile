# Two entry points for newcomers: `make run` and `make test`. Both build .venv from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Rasa 3.6 (intent detection) needs Python 3.10 and dependencies of its own: it gets a
# virtual environment of its own, outside the checkout so that every clone reuses it.
RASA_VERSION := 3.6.21
RASA_VENV ?= $(HOME)/.cache/gateway/rasa-$(RASA_VERSION)
RASA_STAMP := $(RASA_VENV)/.installed
PYENV_ROOT ?= $(HOME)/.pyenv

.PHONY: studio-js texts run test test-fast lint typecheck pytest browser firefox axe graphviz rasa check-services bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Development mode: the USSD and SMS callbacks open without a token, verification codes
# in the log, the demo census (gateway/demo/census.yaml). Never for a gateway others reach.
run: $(STAMP)
	GATEWAY_DEVELOPMENT=$${GATEWAY_DEVELOPMENT:-true} $(BIN)/gateway serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: $(STAMP) lint typecheck check-services pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The fast half, for the edit-test loop: no Redis, PostgreSQL, Rasa, Chromium or gateway
# process (tests/conftest.py marks the tests that need one `integration`).
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not integration"

# Unbuffered: a log cut short (a CI time limit) still ends at the test that was running.
pytest: $(STAMP) browser firefox axe graphviz rasa
	PYTHONUNBUFFERED=1 GATEWAY_RASA_HOME=$(RASA_VENV) $(BIN)/pytest -q

# The console's texts: new or changed ones into the catalogues, for translators.
texts: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F gateway/console/babel.cfg -k N_ -o var/console.pot gateway/console
	$(BIN)/pybabel update -i var/console.pot -d gateway/console/locale -D console \
		--no-fuzzy-matching -w 100

# The studio's script: static/studio/src bundled by esbuild into static/studio/studio.js
# (committed, so `make run` needs no node; tests/gateway/console/test_studio_bundle.py
# checks it is the bundle of its sources).
studio-js: $(AXE_STAMP)
	node gateway/console/static/studio/src/build.mjs gateway/console/static/studio

# The web chat test drives Debian's Chromium (Playwright never downloads a browser here).
# With a Tibetan-script font, so Dzongkha shows in the pages (and the console's screenshots).
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "tibetan machine"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			chromium fonts-tibetan-machine; \
	else \
		echo "chromium or its Tibetan font is missing: run 'sudo apt-get install -y --no-install-recommends chromium fonts-tibetan-machine'" \
			"(the browser test fails without it)" >&2; \
	fi

# The console in Firefox too (tests/gateway/console/test_console_firefox.py): Debian's
# firefox-esr, driven over WebDriver BiDi by puppeteer-core (`make axe`). Playwright's own
# Firefox is a patched build it would download: not used.
firefox:
	@if command -v firefox-esr >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			firefox-esr; \
	else \
		echo "firefox-esr is missing: run 'sudo apt-get install -y --no-install-recommends firefox-esr'" \
			"(the console's Firefox test fails without it)" >&2; \
	fi

# axe-core, the accessibility checker the browser tests inject into the pages
# (tests/browser.py), and puppeteer-core, which drives Firefox in the console's Firefox
# test (it downloads no browser), from npm at the versions package-lock.json pins. `npm ci`
# runs again only when package.json or package-lock.json change (the stamp; `npm ci`
# empties node_modules first). Without npm the browser tests fail, saying so.
AXE_STAMP := node_modules/.installed

axe: $(AXE_STAMP)

$(AXE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
			&& npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm is missing: run 'sudo apt-get install -y --no-install-recommends nodejs npm'," \
			"then 'make axe' (the accessibility checks of the browser tests fail without it)" >&2; \
	fi

# `gateway graph --output flow.svg` (and .png, .pdf) draws with Graphviz's `dot`: Debian's
# package. The .mmd and .dot sources need nothing; without `dot` a picture fails, saying so.
graphviz:
	@if command -v dot >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends graphviz) \
			|| echo "graphviz could not be installed: the picture tests are skipped" >&2; \
	else \
		echo "graphviz is missing: run 'sudo apt-get install -y --no-install-recommends graphviz'" \
			"(gateway graph cannot draw .svg, .png or .pdf without it)" >&2; \
	fi

# Installs once (about 3 minutes); reruns find the stamp. Python 3.10 comes from PATH or
# pyenv (a pyenv shim that is not 3.10 is passed over). The build tools are upgraded only
# in a new environment: upgraded later, they break the versions Rasa pins (packaging).
rasa: $(RASA_STAMP)

$(RASA_STAMP):
	@python=""; \
	for candidate in python3.10 $(PYENV_ROOT)/versions/3.10*/bin/python3.10; do \
		if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; \
		then python="$$candidate"; break; fi; \
	done; \
	if [ -z "$$python" ]; then \
		echo "Rasa $(RASA_VERSION) needs Python 3.10: none on PATH nor in $(PYENV_ROOT)/versions" \
			"(install it, e.g. 'pyenv install 3.10')" >&2; \
		exit 1; \
	fi; \
	echo "Rasa $(RASA_VERSION) into $(RASA_VENV) with $$python"; \
	set -e; \
	if ! test -x $(RASA_VENV)/bin/python; then \
		"$$python" -m venv $(RASA_VENV); \
		$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip 'setuptools<70' wheel; \
	fi; \
	$(RASA_VENV)/bin/python -m pip install --quiet rasa==$(RASA_VERSION)
	touch $(RASA_STAMP)

check-services: $(STAMP)
	$(BIN)/gateway check services
	$(BIN)/gateway test services
	$(BIN)/gateway docs --check

# $(call apt_tool,COMMAND,WITHOUT IT): install the Debian package COMMAND for a bench when
# root, else say what the bench does without it.
define apt_tool
@if command -v $(1) >/dev/null; then :; \
elif [ "$$(id -u)" = 0 ]; then \
	(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1)) >/dev/null \
		|| echo "$(1) could not be installed: $(2)" >&2; \
else \
	echo "$(1) is missing ('sudo apt-get install -y $(1)'): $(2)" >&2; \
fi
endef

bench: $(STAMP) rasa
	$(BIN)/python -m bench.engine_bench
	$(BIN)/python -m bench.conversation_bench
	$(BIN)/python -m bench.nlu_bench
	GATEWAY_RASA_HOME=$(RASA_VENV) timeout 900 $(BIN)/python -m bench.nlu_outage_bench
	$(call apt_tool,wrk,the USSD bench runs without its closed-loop runs)
	timeout 600 $(BIN)/python -m bench.ussd_load
	timeout 600 $(BIN)/python -m bench.submission_bench
	$(call apt_tool,valgrind,no instruction counts)
	timeout 900 $(BIN)/python -m bench.instructions
	timeout 900 $(BIN)/python -m bench.ablate
	timeout 600 $(BIN)/python -m bench.hop_profile
	GATEWAY_RASA_HOME=$(RASA_VENV) timeout 420 $(BIN)/python -m bench.peer_bench
	timeout 600 $(BIN)/python -m bench.capacity

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache

# Two entry points for newcomers: `make run` and `make test`. Both build .venv from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest browser check-services bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: $(STAMP) lint typecheck check-services pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser
	$(BIN)/pytest -q

# The web chat test drives Debian's Chromium (Playwright never downloads a browser here).
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
		echo "chromium is missing: run 'sudo apt-get install -y --no-install-recommends chromium'" \
			"(the browser test fails without it)" >&2; \
	fi

check-services: $(STAMP)
	$(BIN)/gateway check services
	$(BIN)/gateway test services
	$(BIN)/gateway docs --check

bench: $(STAMP)
	$(BIN)/python -m bench.engine_bench
	$(BIN)/python -m bench.conversation_bench
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk) >/dev/null \
			|| echo "wrk could not be installed: the USSD bench runs without its closed-loop runs" >&2; \
	else \
		echo "wrk is missing ('sudo apt-get install -y wrk'): the USSD bench runs without it" >&2; \
	fi
	timeout 600 $(BIN)/python -m bench.ussd_load
	timeout 600 $(BIN)/python -m bench.submission_bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

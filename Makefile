# Two commands do everything on a fresh machine (see README.md):
#   make run    create .venv if needed, install, dbt build on the demo data (or VARS=file.yml)
#   make test   create .venv if needed, install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
VARS ?=
DBT_VARS := $(if $(VARS),--vars "$$(cat $(VARS))",)

.PHONY: run test install docs demo-data clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/dbt build $(DBT_VARS)

test: $(STAMP)
	$(BIN)/python -m pytest tests/python $(PYTEST_ARGS)

docs: $(STAMP)
	$(BIN)/dbt docs generate $(DBT_VARS)

# Regenerate the committed demo seeds (deterministic: same bytes every time).
demo-data: $(STAMP)
	$(BIN)/python -m segmentation.datagen --demo

clean:
	rm -rf target logs segmentation.duckdb segmentation.duckdb.wal

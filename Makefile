# Two commands do everything on a fresh machine (see README.md):
#   make run    create .venv if needed, install, dbt build on the demo data (or VARS=file.yml)
#   make test   create .venv if needed, install, run the whole test suite
#   (more: make docs | charts | export | audiences | replay | bench SIZE=1m | demo-data | spark | dashboard | clean)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DASHBOARD_STAMP := $(VENV)/.dashboard-installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
VARS ?=
DBT_VARS := $(if $(VARS),--vars "$$(cat $(VARS))",)

.PHONY: run test install docs demo-data clean charts export audiences chromium bench spark dashboard dashboard-install

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/dbt build $(DBT_VARS)
	$(BIN)/python scripts/render_charts.py
	$(BIN)/python scripts/export_marts.py

# The suite runs in TEST_WORKERS processes (pytest-xdist), one test file per process at a time
# (--dist loadfile keeps each file's shared builds, such as the one Spark build, in one process).
TEST_WORKERS ?= 2
test: $(STAMP) chromium $(DASHBOARD_STAMP) spark
	SEGMENTATION_REQUIRE_CHROMIUM=1 SEGMENTATION_REQUIRE_DASHBOARD=1 SEGMENTATION_REQUIRE_SPARK=1 $(BIN)/python -m pytest tests/python -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

docs: $(STAMP)
	$(BIN)/python scripts/render_charts.py
	$(BIN)/dbt docs generate --static $(DBT_VARS)

# Regenerate the committed demo seeds (deterministic: same bytes every time).
demo-data: $(STAMP)
	$(BIN)/python -m segmentation.datagen --demo

clean:
	rm -rf target logs segmentation.duckdb segmentation.duckdb.wal segmentation.duckdb.tmp .spark metastore_db spark-warehouse derby.log

# Fill the segment history (docs/history.md): rebuild segments, snapshot and history tables
# at the first of every month from FROM to TO, oldest first, then run the history tests.
#   make replay FROM=2025-01-01 TO=2026-10-01 [RESET=1] [CLUSTERING=train] [VARS=file.yml]
# RESET=1 drops the snapshot and history tables first. CLUSTERING=score (default) trains one
# cluster model at TO and scores every month with it; train retrains at every month.
FROM ?= 2025-01-01
TO ?= 2026-10-01
CLUSTERING ?= score
.PHONY: replay
replay: $(STAMP)
	$(BIN)/python scripts/replay.py --from $(FROM) --to $(TO) --clustering $(CLUSTERING) \
		$(if $(VARS),--vars-file $(VARS),) $(if $(RESET),--reset,)

# Charts for the docs (assets/*.png) from the built database; `make run` and `make docs` run
# it. Without a database it keeps the committed demo charts.
charts: $(STAMP)
	$(BIN)/python scripts/render_charts.py

# The marts as Parquet for BI tools (exports/marts/*.parquet, each file replaced atomically);
# `make run` runs it after every build. See README "Query it from a BI tool".
export: $(STAMP)
	$(BIN)/python scripts/export_marts.py

# One audience file per segment for a marketing tool (exports/audiences/<type>/<segment>.csv
# and an index, audiences.csv):  make audiences [CONSENT=1] [FORMAT=parquet]
FORMAT ?= csv
audiences: $(STAMP)
	$(BIN)/python scripts/export_audiences.py --format $(FORMAT) $(if $(CONSENT),--consent-only,)

# The dashboard (dashboards/segments_app.py, README "The dashboard"): Streamlit and Plotly from
# dashboards/requirements.txt into .venv (once per change of that file), then
# `make dashboard` serves it on http://localhost:8501 from the built database.
$(DASHBOARD_STAMP): $(STAMP) dashboards/requirements.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt -r dashboards/requirements.txt
	touch $(DASHBOARD_STAMP)

dashboard-install: $(DASHBOARD_STAMP)

dashboard: $(DASHBOARD_STAMP)
	$(BIN)/streamlit run dashboards/segments_app.py --server.headless true \
		--browser.gatherUsageStats false

# Headless Chromium for the docs browser test (tests/python/test_docs_browser.py), from
# Debian's packages when missing. CI starts from a clean machine as root; elsewhere sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# The Spark target (README "Running on a bigger warehouse"): Java 17 from Debian's packages
# when missing, and dbt-spark[session] + pyspark (requirements-spark.txt, pins that agree
# with requirements.txt) in the same .venv. `make run` and `make install` stay DuckDB-only.
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP) requirements-spark.txt
	$(BIN)/python -m pip install --quiet -r requirements-spark.txt
	echo "import segmentation.spark_session_submit; segmentation.spark_session_submit.install_import_hook()" \
		> "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/segmentation_spark_session.pth"
	touch $(SPARK_STAMP)
spark: $(SPARK_STAMP)
	@command -v java >/dev/null 2>&1 || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jre-headless; }

# Benchmark (README "Benchmarks"): generate SIZE's Parquet once into .bench/, then time the full
# dbt build on it against the notebook baseline (scripts/notebook_baseline.py).
#   make bench SIZE=100k|1m|5m [BENCH_ARGS="--skip-baseline --env SEGMENTATION_PYTHON_THREADS=default"]
#   make bench SIZE=1m BENCH_ARGS="--incremental --repeat 3"   # + one appended day: incremental
#     build vs --full-refresh, identical marts; ours and the baseline alternate A B A B, medians
SIZE ?= 100k
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --size $(SIZE) $(BENCH_ARGS)

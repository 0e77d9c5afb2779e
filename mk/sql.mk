# SQL export: the compiled DuckDB queries against the engine's preview, and every dialect
# parsed by sqlglot. Python tools live in a virtualenv made from PyPI when missing.

SQL_VENV := target/sql-venv
SQL_FIXTURES := target/sql-fixtures
SQL_PROFILES ?= 100000
SQL_SEED ?= 7

.PHONY: test-sql tool-sql-venv
TEST_TARGETS += test-sql

# Debian's python3 needs python3-venv for `python3 -m venv`.
tool-sql-venv:
	@if [ ! -x $(SQL_VENV)/bin/python ] || ! $(SQL_VENV)/bin/pip freeze 2>/dev/null | sort | diff -q - <(grep -E '^[a-z]' tests/sql/requirements.txt | sort) >/dev/null; then \
	  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
	    || { $(APT_GET) update -qq; $(APT_GET) install -y -qq python3-venv; }; \
	  rm -rf $(SQL_VENV); python3 -m venv $(SQL_VENV); \
	  $(SQL_VENV)/bin/pip install -q -r tests/sql/requirements.txt; \
	fi

test-sql: tool-sql-venv
	$(CARGO) run -q -p group-identity --example sql_fixture -- $(SQL_FIXTURES) --seed $(SQL_SEED) --profiles $(SQL_PROFILES)
	$(SQL_VENV)/bin/python tests/sql/test_sql.py $(SQL_FIXTURES)

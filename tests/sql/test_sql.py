"""SQL export tests: the compiled queries against the engine, and every dialect parsed.

Usage: python test_sql.py <fixture-dir>   (the directory written by the sql_fixture example)

1. DuckDB equivalence. Each case's table rows are loaded into DuckDB under the case's
   (possibly hostile) table and column names; the `groups` query must give, row for row
   and in order, every member of every group of the engine's preview with the group key
   and each inherited attribute; the `oversized` query must give `preview.oversized`.
   Booleans and `latest` values (JSON) compare exactly. Sums and averages compare with a
   relative tolerance of 1e-12: the engine adds in input order, SQL in any order.
   Cases with integer mpids run twice: mpid column VARCHAR, then BIGINT.
2. Every dialect's queries parse with sqlglot as one SELECT, and every name of the hostile
   case is held in the tree as an identifier or a string literal, never as SQL.
"""

import json
import math
import sys
import time
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

FAILURES = []


def fail(message):
    FAILURES.append(message)
    print("FAIL:", message)


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def ql(text):
    return "'" + text.replace("'", "''") + "'"


def load_table(con, case, path, mpid_type):
    cols = case["columns"]
    table = ".".join(qi(p) for p in case["table"].split("."))
    source = (
        f"read_json({ql(str(path))}, format='newline_delimited', columns={{"
        "'mpid': 'VARCHAR', 'attributes': 'JSON', 'attribute_timestamps': 'JSON', "
        "'updated_at': 'VARCHAR', 'last_stored_timestamp_ms': 'VARCHAR', 'ord': 'BIGINT'})"
    )
    mpid = "mpid" if mpid_type == "VARCHAR" else "CAST(NULLIF(mpid, '') AS BIGINT)"
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(
        f"CREATE TABLE {table} AS SELECT {mpid} AS {qi(cols['mpid'])}, "
        f"attributes AS {qi(cols['attributes'])}, "
        f"attribute_timestamps AS {qi(cols['attributeTimestamps'])}, "
        f"updated_at AS {qi(cols['updatedAt'])}, "
        f"last_stored_timestamp_ms AS {qi(cols['lastStoredTimestampMs'])}, "
        f"ord AS {qi(cols['order'])} FROM {source}"
    )


def same_number(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def compare(case, preview, rows, oversized, label):
    definition = case["definition"]
    names = [f"{definition['id']}:{a['id']}" for a in definition["attributes"]]
    kinds = [a["type"] for a in definition["attributes"]]
    expected = [
        (mpid, group["key"], [group["attributes"].get(n) for n in names])
        for group in preview["groups"]
        for mpid in group["members"]
    ]
    if len(rows) != len(expected):
        fail(f"{label}: groups query gave {len(rows)} rows, the preview {len(expected)} members")
    bad = 0
    for i, (row, (mpid, key, values)) in enumerate(zip(rows, expected)):
        problems = []
        if row[0] != mpid or row[1] != key:
            problems.append(f"mpid/key {row[0]!r}/{row[1]!r} != {mpid!r}/{key!r}")
        for name, kind, got, want in zip(names, kinds, row[2:], values):
            if kind == "latest" and got is not None:
                got = json.loads(got)
            ok = same_number(got, want) if kind in ("sum", "average") else (
                got == want and type(got) is type(want))
            if not ok:
                problems.append(f"{name} ({kind}): SQL {got!r}, engine {want!r}")
        if problems:
            bad += 1
            if bad <= 10:
                fail(f"{label}: row {i}: " + "; ".join(problems))
    if bad > 10:
        fail(f"{label}: {bad} rows differ in all")
    want_over = [(o["key"], o["size"]) for o in preview["oversized"]]
    if [tuple(r) for r in oversized] != want_over:
        fail(f"{label}: oversized query gave {oversized[:5]}..., the preview {want_over[:5]}...")


def equivalence(fixtures, case):
    name = case["name"]
    preview_path = fixtures / f"{name}.preview.json"
    if not preview_path.exists():
        print(f"{name}: no preview written, equivalence skipped")
        return
    preview = json.loads(preview_path.read_text())
    queries = case["queries"]["duckdb"]
    for mpid_type in ["VARCHAR", "BIGINT"] if case["integerMpids"] else ["VARCHAR"]:
        con = duckdb.connect()
        load_table(con, case, fixtures / f"{name}.table.ndjson", mpid_type)
        start = time.perf_counter()
        rows = con.execute(queries["groups"]).fetchall()
        groups_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        oversized = con.execute(queries["oversized"]).fetchall()
        oversized_ms = (time.perf_counter() - start) * 1000
        label = f"{name} (mpid {mpid_type})"
        before = len(FAILURES)
        compare(case, preview, rows, oversized, label)
        profiles = preview["stats"]["profiles"]
        status = "ok" if len(FAILURES) == before else "FAILED"
        print(
            f"{label}: {status}: {profiles} profiles, {len(rows)} grouped rows, "
            f"{len(oversized)} oversized keys; DuckDB groups {groups_ms:.0f} ms, "
            f"oversized {oversized_ms:.0f} ms; preview_groups {case['previewMs']:.0f} ms"
        )
        con.close()


DIALECTS = {"snowflake": "snowflake", "bigquery": "bigquery", "spark": "spark", "duckdb": "duckdb"}


def names_in(tree):
    identifiers = {i.this for i in tree.find_all(exp.Identifier)}
    literals = {l.this for l in tree.find_all(exp.Literal) if l.is_string}
    return identifiers, literals


def parse_checks(case):
    definition = case["definition"]
    hostile = case["name"] == "hostile"
    for dialect, read in DIALECTS.items():
        for which, sql in case["queries"][dialect].items():
            label = f"{case['name']} {dialect} {which}"
            try:
                trees = sqlglot.parse(sql, read=read, error_level=sqlglot.ErrorLevel.RAISE)
            except sqlglot.errors.SqlglotError as e:
                fail(f"{label}: sqlglot cannot parse it: {str(e)[:300]}")
                continue
            if len(trees) != 1 or not isinstance(trees[0], exp.Select):
                fail(f"{label}: expected one SELECT, got {[type(t).__name__ for t in trees]}")
                continue
            tree = trees[0]
            for bad in (exp.Drop, exp.Command, exp.Delete, exp.Insert, exp.Update):
                if tree.find(bad):
                    fail(f"{label}: holds a {bad.__name__} statement")
            if not hostile:
                continue
            identifiers, literals = names_in(tree)
            wanted_ids = list(case["table"].split("."))
            cols = case["columns"]
            wanted_ids += [cols["mpid"], cols["attributes"], cols["order"]]
            wanted_ids += [cols["attributeTimestamps"], cols["updatedAt"], cols["lastStoredTimestampMs"]]
            if which == "groups":
                wanted_ids += [f"{definition['id']}:{a['id']}" for a in definition["attributes"]]
            for name in wanted_ids:
                if which == "oversized" and name in (cols["attributeTimestamps"], cols["updatedAt"], cols["lastStoredTimestampMs"]):
                    continue
                # BigQuery reads dots in a quoted name as a path (`a.b` is `a`.`b`); its
                # column names cannot hold dots, and the parts stay identifiers.
                parts = name.split(".") if dialect == "bigquery" else [name]
                if name not in identifiers and not all(p in identifiers for p in parts):
                    fail(f"{label}: identifier {name!r} not found as an identifier")
            keys = [definition["source_user_attribute"]]
            if which == "groups":
                keys += [a["id"] for a in definition["attributes"]]
            for key in keys:
                literal = pointer(key) if dialect == "duckdb" else key
                if literal not in literals:
                    fail(f"{label}: attribute {key!r} not found as a string literal")


def pointer(key):
    return "/" + key.replace("~", "~0").replace("/", "~1")


def main():
    fixtures = Path(sys.argv[1])
    cases = json.loads((fixtures / "cases.json").read_text())
    for case in cases:
        equivalence(fixtures, case)
        parse_checks(case)
    if FAILURES:
        print(f"test-sql: {len(FAILURES)} failure(s)")
        sys.exit(1)
    print("test-sql: all checks passed")


if __name__ == "__main__":
    main()

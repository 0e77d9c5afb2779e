//! The SQL export's public surface: options as JSON, safe names, errors. Its semantics are
//! proven against the engine by `make test-sql` (tests/sql), which runs the queries.

use group_identity::definition::{Aggregation, GroupAttribute, GroupDefinition};
use group_identity::sql::{to_sql, Columns, Dialect, SqlError, SqlOptions};

fn definition(attribute: &str) -> GroupDefinition {
    GroupDefinition {
        id: "household".into(),
        description: None,
        source_user_attribute: "$address".into(),
        attributes: vec![GroupAttribute {
            id: attribute.into(),
            aggregation: Aggregation::Latest,
        }],
    }
}

fn options(dialect: Dialect, table: &str) -> SqlOptions {
    SqlOptions {
        dialect,
        table: table.into(),
        columns: Columns {
            mpid: "mpid".into(),
            attributes: "attrs".into(),
            attribute_timestamps: Some("ts".into()),
            updated_at: None,
            last_stored_timestamp_ms: None,
            order: "ord".into(),
        },
    }
}

#[test]
fn options_read_from_camel_case_json() {
    let options: SqlOptions = serde_json::from_value(serde_json::json!({
        "dialect": "bigquery",
        "table": "proj.ds.profiles",
        "columns": { "mpid": "mpid", "attributes": "attrs", "attributeTimestamps": "ts",
                     "updatedAt": "u", "order": "ord" }
    }))
    .unwrap();
    assert_eq!(options.dialect, Dialect::BigQuery);
    assert_eq!(options.columns.updated_at.as_deref(), Some("u"));
    assert_eq!(options.columns.last_stored_timestamp_ms, None);
    let names: Vec<Dialect> =
        serde_json::from_str(r#"["duckdb","snowflake","bigquery","spark"]"#).unwrap();
    assert_eq!(names.len(), 4);
}

#[test]
fn hostile_attribute_stays_inside_its_quotes() {
    let evil = "x'); DROP TABLE t; --";
    let q = to_sql(
        &definition(evil),
        &options(Dialect::DuckDb, "db.main.profiles"),
    )
    .unwrap();
    assert!(q
        .groups
        .contains("json_extract(\"a\", '/x''); DROP TABLE t; --')"));
    assert!(q.groups.contains("AS \"household:x'); DROP TABLE t; --\""));
    assert!(q.groups.contains("FROM \"db\".\"main\".\"profiles\""));
    let q = to_sql(&definition(evil), &options(Dialect::Spark, "profiles")).unwrap();
    assert!(q
        .groups
        .contains("try_element_at(`a`, 'x\\'); DROP TABLE t; --')"));
    let q = to_sql(&definition("a`b"), &options(Dialect::BigQuery, "p.d.t")).unwrap();
    assert!(q.groups.contains("AS `household:a\\`b`"));
    let q = to_sql(&definition("a\"b"), &options(Dialect::Snowflake, "t")).unwrap();
    assert!(q.groups.contains("GET(\"a\", 'a\"b')"));
    assert!(q.groups.contains("AS \"household:a\"\"b\""));
}

#[test]
fn pointer_escapes_slash_and_tilde() {
    let q = to_sql(&definition("a/b~c"), &options(Dialect::DuckDb, "t")).unwrap();
    assert!(q.groups.contains("'/a~1b~0c'"));
}

#[test]
fn bad_names_are_errors_not_sql() {
    let err = to_sql(&definition("x"), &options(Dialect::DuckDb, "db..t")).unwrap_err();
    assert!(matches!(err, SqlError::EmptyName { .. }));
    let err = to_sql(&definition("a\0b"), &options(Dialect::Spark, "t")).unwrap_err();
    assert!(matches!(err, SqlError::NulCharacter { .. }));
    assert!(err.to_string().contains("NUL"));
}

/// Spark substitutes `${env:HOME}` with the server's environment before reading a query,
/// inside quoted literals and names too: such a name is refused as a column name, and
/// escaped in a literal.
#[test]
fn spark_variables_are_never_left_for_substitution() {
    let err = to_sql(&definition("${env:HOME}"), &options(Dialect::Spark, "t")).unwrap_err();
    assert!(matches!(err, SqlError::SparkVariable { .. }), "{err}");
    assert!(err.to_string().contains("spark.sql.variable.substitute"));
    let err = to_sql(&definition("x"), &options(Dialect::Spark, "db.${x}")).unwrap_err();
    assert!(matches!(err, SqlError::SparkVariable { .. }), "{err}");
    // Elsewhere it is a name like any other.
    for dialect in [Dialect::DuckDb, Dialect::Snowflake, Dialect::BigQuery] {
        assert!(to_sql(&definition("${env:HOME}"), &options(dialect, "t")).is_ok());
    }
    assert_eq!(
        group_identity::sql::quote_literal(Dialect::Spark, "a${env:HOME}b$c").unwrap(),
        "'a\\u0024{env:HOME}b$c'"
    );
}

#[test]
fn oversized_query_needs_no_attribute_columns() {
    let q = to_sql(&definition("country"), &options(Dialect::DuckDb, "t")).unwrap();
    assert!(!q.oversized.contains("country"));
    assert!(q.oversized.contains("> 10"));
    assert!(q.groups.contains("BETWEEN 2 AND 10"));
}

//! Compiling a definition to warehouse SQL (DuckDB, Snowflake, BigQuery, Spark SQL).
//!
//! [`to_sql`] gives two queries over a table of profiles, one row per profile:
//!
//! - `groups`: one row per grouped profile: `mpid` (text), `group_key`, and one column
//!   per inherited attribute named `group:attribute`, in group order (first member in
//!   input order) then member order;
//! - `oversized`: `group_key, size` for keys held by more than 10 profiles.
//!
//! They reproduce [`crate::preview_groups`] (SPEC sections 3 to 5): duplicate mpids are
//! dropped (the first row by the order column stands), keys shorter than 5 code points
//! form no group, groups hold 2 to 10 profiles, and the aggregations coerce values as
//! [`crate::coerce`] does. Where a dialect cannot see what the engine sees, the
//! difference is listed in the project README ("Running the same definition in your warehouse").
//!
//! How each dialect reads one attribute, so that no attribute name can break out of its
//! literal:
//! - DuckDB: `json_extract(col, '/key')`, an RFC 6901 JSON Pointer (no dots, brackets or
//!   quotes are special in it), inside a standard SQL string;
//! - Snowflake: `GET(col, 'key')` on a VARIANT: the key is a plain name, not a path;
//! - BigQuery: the JSON subscript `col['key']` on a JSON column: a plain name too;
//! - Spark: `from_json(col, 'MAP<STRING,STRING>')` then `try_element_at(map, 'key')`:
//!   `get_json_object` paths cannot hold every key. The map holds text, so Spark cannot
//!   tell a string from a number, array or object (README lists what follows).

mod quote;

pub use quote::{json_pointer, quote_identifier, quote_literal, quote_table};

use serde::{Deserialize, Serialize};

use crate::definition::{Aggregation, GroupDefinition};
use quote::WHITE_SPACE;

/// The SQL dialect to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[serde(rename = "duckdb")]
    DuckDb,
    Snowflake,
    #[serde(rename = "bigquery")]
    BigQuery,
    Spark,
}

/// The columns of the profile table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Columns {
    /// Integer or string mpids; NULL and empty mpids are dropped.
    pub mpid: String,
    /// The flat user-attribute object: JSON (DuckDB, BigQuery), VARIANT (Snowflake) or a
    /// JSON string (Spark).
    pub attributes: String,
    /// Optional object of attribute key to time, of the same type as `attributes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_timestamps: Option<String>,
    /// Optional profile time: an RFC 3339 string or epoch milliseconds (string or integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Optional profile time used when `updated_at` gives none; same forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stored_timestamp_ms: Option<String>,
    /// Input order: the first row of an mpid stands, and later rows win `latest` ties.
    pub order: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlOptions {
    pub dialect: Dialect,
    /// `table`, `schema.table` or `db.schema.table`; each part is quoted.
    pub table: String,
    pub columns: Columns,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlQueries {
    pub groups: String,
    pub oversized: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("{what} is empty; SQL names need at least one character")]
    EmptyName { what: String },
    #[error("{what} contains a NUL character, which SQL text cannot carry")]
    NulCharacter { what: String },
    /// Spark replaces `${...}` anywhere in a query's text, inside quotes too, before it
    /// reads the query; a quoted name has no escape that prevents it.
    #[error(
        "{what} contains \"${{\", which Spark replaces with a variable's value before it reads \
         the query (spark.sql.variable.substitute), quoted names included; rename it, or \
         choose another dialect"
    )]
    SparkVariable { what: String },
}

/// Writes the two queries for `definition` over the table in `options`.
pub fn to_sql(definition: &GroupDefinition, options: &SqlOptions) -> Result<SqlQueries, SqlError> {
    let b = Builder::new(options.dialect);
    let c = &options.columns;
    let table = quote_table(options.dialect, &options.table)?;
    let input = Input {
        table,
        mpid: b.ident(&c.mpid, "mpid column")?,
        attributes: b.ident(&c.attributes, "attributes column")?,
        timestamps: c
            .attribute_timestamps
            .as_deref()
            .map(|n| b.ident(n, "attributeTimestamps column"))
            .transpose()?,
        updated_at: c
            .updated_at
            .as_deref()
            .map(|n| b.ident(n, "updatedAt column"))
            .transpose()?,
        last_stored: c
            .last_stored_timestamp_ms
            .as_deref()
            .map(|n| b.ident(n, "lastStoredTimestampMs column"))
            .transpose()?,
        order: b.ident(&c.order, "order column")?,
    };
    Ok(SqlQueries {
        groups: b.groups(definition, &input)?,
        oversized: b.oversized(definition, &input)?,
    })
}

/// Quoted input names.
struct Input {
    table: String,
    mpid: String,
    attributes: String,
    timestamps: Option<String>,
    updated_at: Option<String>,
    last_stored: Option<String>,
    order: String,
}

/// The largest finite double, and 2^64, as literals every dialect reads as doubles.
const DOUBLE_MAX: &str = "1.7976931348623157e308";
const TWO_64: &str = "1.8446744073709552e19";
/// The largest double that times 2^64 is still finite (`DOUBLE_MAX` / 2^64, exact): a
/// scaled total past it is tested before it is multiplied, since some warehouses
/// (BigQuery) fail the whole query on a product that overflows.
const SCALED_MAX: &str = "9.745314011399998e288";

/// Rust's `f64` grammar (what `str::parse::<f64>` accepts), without `inf`/`NaN`, which
/// are not finite. No anchors: [`Builder::full_match`] adds them per dialect.
const DECIMAL_RE: &str = "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?";
/// RFC 3339 as the `time` crate reads it. Leap seconds and a separator other than a
/// printable ASCII character are not accepted here.
const RFC3339_RE: &str = "[0-9]{4}-[0-9]{2}-[0-9]{2}[ -~]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";

struct Builder {
    d: Dialect,
}

impl Builder {
    fn new(d: Dialect) -> Self {
        Builder { d }
    }

    fn ident(&self, name: &str, what: &str) -> Result<String, SqlError> {
        quote_identifier(self.d, name, what)
    }

    fn lit(&self, value: &str) -> Result<String, SqlError> {
        quote_literal(self.d, value)
    }

    /// Internal names: fixed, never taken from input.
    fn id(&self, name: &str) -> String {
        match self.d {
            Dialect::DuckDb | Dialect::Snowflake => format!("\"{name}\""),
            Dialect::BigQuery | Dialect::Spark => format!("`{name}`"),
        }
    }

    fn text_type(&self) -> &'static str {
        match self.d {
            Dialect::DuckDb | Dialect::Snowflake => "VARCHAR",
            Dialect::BigQuery | Dialect::Spark => "STRING",
        }
    }

    /// The parsed attribute object from a column (Spark: a string map).
    fn object(&self, column: &str) -> String {
        match self.d {
            Dialect::Spark => format!("from_json({column}, 'MAP<STRING,STRING>')"),
            _ => column.to_string(),
        }
    }

    /// One member of an object, as the dialect's JSON value (Spark: text).
    fn get(&self, object: &str, key: &str) -> Result<String, SqlError> {
        Ok(match self.d {
            Dialect::DuckDb => format!("json_extract({object}, {})", self.lit(&json_pointer(key))?),
            Dialect::Snowflake => format!("GET({object}, {})", self.lit(key)?),
            Dialect::BigQuery => format!("{object}[{}]", self.lit(key)?),
            Dialect::Spark => format!("try_element_at({object}, {})", self.lit(key)?),
        })
    }

    fn is_string(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("json_type({v}) = 'VARCHAR'"),
            Dialect::Snowflake => format!("IS_VARCHAR({v})"),
            Dialect::BigQuery => format!("JSON_TYPE({v}) = 'string'"),
            Dialect::Spark => format!("{v} IS NOT NULL"),
        }
    }

    /// JSON numbers (never true in Spark, where numbers arrive as text).
    fn is_number(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("json_type({v}) IN ('BIGINT', 'UBIGINT', 'DOUBLE')"),
            Dialect::Snowflake => format!("(IS_INTEGER({v}) OR IS_DECIMAL({v}) OR IS_DOUBLE({v}))"),
            Dialect::BigQuery => format!("JSON_TYPE({v}) = 'number'"),
            Dialect::Spark => "FALSE".into(),
        }
    }

    fn is_bool(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("json_type({v}) = 'BOOLEAN'"),
            Dialect::Snowflake => format!("IS_BOOLEAN({v})"),
            Dialect::BigQuery => format!("JSON_TYPE({v}) = 'boolean'"),
            Dialect::Spark => "FALSE".into(),
        }
    }

    fn is_present(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("json_type({v}) <> 'NULL'"),
            Dialect::Snowflake => format!("NOT IS_NULL_VALUE({v})"),
            Dialect::BigQuery => format!("JSON_TYPE({v}) <> 'null'"),
            Dialect::Spark => format!("{v} IS NOT NULL"),
        }
    }

    /// The content of a JSON string.
    fn string(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("json_extract_string({v}, '$')"),
            Dialect::Snowflake => format!("AS_VARCHAR({v})"),
            Dialect::BigQuery => format!("JSON_VALUE({v})"),
            Dialect::Spark => v.to_string(),
        }
    }

    /// The JSON text of a number or boolean.
    fn json_text(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("CAST({v} AS VARCHAR)"),
            Dialect::Snowflake => format!("TO_JSON({v})"),
            Dialect::BigQuery => format!("TO_JSON_STRING({v})"),
            Dialect::Spark => v.to_string(),
        }
    }

    /// A JSON number as a double.
    fn number(&self, v: &str) -> String {
        match self.d {
            Dialect::DuckDb => format!("TRY_CAST({v} AS DOUBLE)"),
            Dialect::Snowflake => format!("TO_DOUBLE({v})"),
            Dialect::BigQuery => format!("LAX_FLOAT64({v})"),
            Dialect::Spark => format!("TRY_CAST({v} AS DOUBLE)"),
        }
    }

    fn to_double(&self, s: &str) -> String {
        match self.d {
            Dialect::DuckDb | Dialect::Spark => format!("TRY_CAST({s} AS DOUBLE)"),
            Dialect::Snowflake => format!("TRY_TO_DOUBLE({s})"),
            Dialect::BigQuery => format!("SAFE_CAST({s} AS FLOAT64)"),
        }
    }

    fn to_bigint(&self, s: &str) -> String {
        match self.d {
            Dialect::DuckDb | Dialect::Spark => format!("TRY_CAST({s} AS BIGINT)"),
            Dialect::Snowflake => format!("TRY_TO_NUMBER({s}, 19, 0)"),
            Dialect::BigQuery => format!("SAFE_CAST({s} AS INT64)"),
        }
    }

    /// `x` when finite, else NULL (NaN compares greater than infinity in Snowflake and
    /// Spark, so one comparison excludes both).
    fn finite(&self, x: &str) -> String {
        let test = match self.d {
            Dialect::DuckDb => format!("isfinite({x})"),
            Dialect::Snowflake => format!("ABS({x}) < CAST('inf' AS DOUBLE)"),
            Dialect::BigQuery => format!("NOT IS_INF({x}) AND NOT IS_NAN({x})"),
            Dialect::Spark => format!("ABS({x}) < CAST('Infinity' AS DOUBLE)"),
        };
        format!("CASE WHEN {test} THEN {x} END")
    }

    /// `s` matches `re` as a whole.
    fn full_match(&self, s: &str, re: &str) -> Result<String, SqlError> {
        Ok(match self.d {
            Dialect::DuckDb => format!("regexp_full_match({s}, {})", self.lit(re)?),
            Dialect::Snowflake => format!("REGEXP_LIKE({s}, {})", self.lit(re)?),
            Dialect::BigQuery => {
                format!("REGEXP_CONTAINS({s}, {})", self.lit(&format!("^({re})$"))?)
            }
            // Java's `$` also matches before a final line break; `\z` does not.
            Dialect::Spark => format!("{s} RLIKE {}", self.lit(&format!("^({re})\\z"))?),
        })
    }

    /// Trims what Rust's `str::trim` trims.
    fn trim(&self, s: &str) -> Result<String, SqlError> {
        let chars = self.lit(WHITE_SPACE)?;
        Ok(match self.d {
            Dialect::Spark => format!("TRIM(BOTH {chars} FROM {s})"),
            _ => format!("TRIM({s}, {chars})"),
        })
    }

    /// Grouping key (`coerce::key_text`): NULL for absent, null, empty and unusable.
    fn key(&self, v: &str) -> String {
        format!(
            "CASE WHEN {} THEN NULLIF({}, '') WHEN {} OR {} THEN {} END",
            self.is_string(v),
            self.string(v),
            self.is_number(v),
            self.is_bool(v),
            self.json_text(v)
        )
    }

    /// `boolean_or` input (`coerce::as_bool`) as 1, 0 or NULL.
    fn boolean(&self, v: &str) -> Result<String, SqlError> {
        let s = format!("LOWER({})", self.trim(&self.string(v))?);
        Ok(format!(
            "CASE WHEN {} THEN CASE WHEN {} = 'true' THEN 1 ELSE 0 END WHEN {} THEN CASE {s} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END END",
            self.is_bool(v),
            self.json_text(v),
            self.is_string(v),
        ))
    }

    /// `sum`/`average` input (`coerce::as_number`): a finite double or NULL.
    fn numeric(&self, v: &str) -> Result<String, SqlError> {
        let s = self.string(v);
        Ok(format!(
            "CASE WHEN {} THEN {} WHEN {} AND {} THEN {} END",
            self.is_number(v),
            self.finite(&self.number(v)),
            self.is_string(v),
            self.full_match(&s, DECIMAL_RE)?,
            self.finite(&self.to_double(&s)),
        ))
    }

    /// A time (`timestamp::parse_time`) from text, as epoch milliseconds (double):
    /// trimmed; empty is no time; digits are milliseconds; else RFC 3339.
    fn time_text(&self, s: &str) -> Result<String, SqlError> {
        let t = self.trim(s)?;
        // One separator of any kind and `z` in either case, rewritten to what casts read.
        let normalized = format!("CONCAT(SUBSTR({t}, 1, 10), 'T', UPPER(SUBSTR({t}, 12)))");
        let rfc = match self.d {
            Dialect::DuckDb => format!("epoch_us(TRY_CAST({normalized} AS TIMESTAMPTZ)) / 1000.0"),
            Dialect::Snowflake => {
                format!("DATE_PART(EPOCH_MICROSECOND, TRY_TO_TIMESTAMP_TZ({normalized})) / 1000.0")
            }
            Dialect::BigQuery => {
                format!("UNIX_MICROS(SAFE_CAST({normalized} AS TIMESTAMP)) / 1000.0")
            }
            Dialect::Spark => format!("unix_micros(TRY_CAST({normalized} AS TIMESTAMP)) / 1000.0"),
        };
        Ok(format!(
            "CASE WHEN {t} = '' THEN NULL WHEN {} THEN CAST({} AS {}) WHEN {} THEN {rfc} END",
            self.full_match(&t, "-?[0-9]+")?,
            self.to_bigint(&t),
            self.double_type(),
            self.full_match(&t, RFC3339_RE)?,
        ))
    }

    fn double_type(&self) -> &'static str {
        match self.d {
            Dialect::BigQuery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    /// A time from a JSON value of the timestamps object.
    fn time_json(&self, v: &str) -> Result<String, SqlError> {
        let x = self.number(v);
        Ok(format!(
            "CASE WHEN {} THEN CASE WHEN ABS({x}) < 1e17 THEN {x} END WHEN {} THEN {} END",
            self.is_number(v),
            self.is_string(v),
            self.time_text(&self.string(v))?,
        ))
    }

    /// A time from a plain column (string or integer).
    fn time_column(&self, column: &str) -> Result<String, SqlError> {
        self.time_text(&format!("CAST({column} AS {})", self.text_type()))
    }

    /// Deduplicated rows with the parsed objects: `mpid`, `ord`, `a`, `t`, `pt`.
    fn rows(&self, input: &Input, with_times: bool) -> Result<String, SqlError> {
        let mpid_text = format!("NULLIF(CAST({} AS {}), '')", input.mpid, self.text_type());
        let mut fields = vec![
            format!("{mpid_text} AS {}", self.id("mpid")),
            format!("{} AS {}", input.order, self.id("ord")),
            format!("{} AS {}", self.object(&input.attributes), self.id("a")),
        ];
        if with_times {
            if let Some(ts) = &input.timestamps {
                fields.push(format!("{} AS {}", self.object(ts), self.id("t")));
            }
            let times = [&input.updated_at, &input.last_stored]
                .into_iter()
                .flatten()
                .map(|c| self.time_column(c))
                .collect::<Result<Vec<_>, _>>()?;
            let pt = match times.len() {
                0 => "NULL".to_string(),
                1 => times.concat(),
                _ => format!("COALESCE({})", times.join(", ")),
            };
            fields.push(format!("{pt} AS {}", self.id("pt")));
        }
        fields.push(format!(
            "ROW_NUMBER() OVER (PARTITION BY {mpid_text} ORDER BY {}) AS {}",
            input.order,
            self.id("rn")
        ));
        Ok(format!(
            "{} AS (\n  SELECT {}\n  FROM {}\n  WHERE {mpid_text} IS NOT NULL\n)",
            self.id("rows"),
            fields.join(",\n    "),
            input.table
        ))
    }

    /// `vals`: the raw JSON values, extracted once; `keyed`: the key and the typed
    /// values; `sized`: rows with a usable key of 5 or more characters and the key's size.
    fn keyed(
        &self,
        source: &str,
        raw: &[String],
        typed: &[String],
        with_times: bool,
    ) -> Result<String, SqlError> {
        let (k, v) = (self.id("k"), self.id("v"));
        let mut raw_fields = vec![self.id("mpid"), self.id("ord")];
        if with_times {
            raw_fields.push(self.id("pt"));
        }
        raw_fields.push(format!("{} AS {v}", self.get(&self.id("a"), source)?));
        raw_fields.extend(raw.iter().cloned());
        let mut typed_fields = vec![
            self.id("mpid"),
            self.id("ord"),
            format!("{} AS {k}", self.key(&v)),
        ];
        typed_fields.extend(typed.iter().cloned());
        Ok(format!(
            "{vals} AS (\n  SELECT {}\n  FROM {}\n  WHERE {} = 1\n),\n{keyed} AS (\n  SELECT {}\n  FROM {vals}\n),\n{} AS (\n  SELECT *, COUNT(*) OVER (PARTITION BY {k}) AS {}, MIN({}) OVER (PARTITION BY {k}) AS {}\n  FROM {keyed}\n  WHERE {k} IS NOT NULL AND LENGTH({k}) >= 5\n)",
            raw_fields.join(",\n    "),
            self.id("rows"),
            self.id("rn"),
            typed_fields.join(",\n    "),
            self.id("sized"),
            self.id("size"),
            self.id("ord"),
            self.id("first"),
            vals = self.id("vals"),
            keyed = self.id("keyed"),
        ))
    }

    fn groups(&self, def: &GroupDefinition, input: &Input) -> Result<String, SqlError> {
        let rows = self.rows(input, true)?;
        let (mut raw, mut typed) = (Vec::new(), Vec::new());
        // Each window aggregate is computed once, in `windows`; the outputs read them.
        let mut windows = Vec::new();
        let mut outputs = vec![
            self.id("mpid"),
            format!("{} AS {}", self.id("k"), self.id("group_key")),
        ];
        let by_key = format!("PARTITION BY {}", self.id("k"));
        for (i, attribute) in def.attributes.iter().enumerate() {
            let v = self.id(&format!("v{i}"));
            let x = self.id(&format!("x{i}"));
            raw.push(format!(
                "{} AS {v}",
                self.get(&self.id("a"), &attribute.id)?
            ));
            let name = self.ident(&format!("{}:{}", def.id, attribute.id), "output column")?;
            let window = |what: &str| self.id(&format!("w_{what}{i}"));
            match attribute.aggregation {
                Aggregation::BooleanOr => {
                    typed.push(format!("{} AS {x}", self.boolean(&v)?));
                    let any = window("any");
                    windows.push(format!("MAX({x}) OVER ({by_key}) AS {any}"));
                    outputs.push(format!(
                        "CASE WHEN {any} = 1 THEN TRUE ELSE FALSE END AS {name}"
                    ));
                }
                Aggregation::Sum | Aggregation::Average => {
                    typed.push(format!("{} AS {x}", self.numeric(&v)?));
                    let (count, sum, scaled) = (window("count"), window("sum"), window("scaled"));
                    windows.push(format!("COUNT({x}) OVER ({by_key}) AS {count}"));
                    windows.push(format!("SUM({x}) OVER ({by_key}) AS {sum}"));
                    windows.push(format!("SUM({x} / {TWO_64}) OVER ({by_key}) AS {scaled}"));
                    let per = if attribute.aggregation == Aggregation::Average {
                        format!(" / {count}")
                    } else {
                        String::new()
                    };
                    // As the engine: the plain total while it stays a double, else the
                    // total of the values scaled by 2^-64 (a mean of 1e308s is 1e308);
                    // a result that is not finite is not set.
                    let result = format!(
                        "CASE WHEN ABS({sum}) <= {DOUBLE_MAX} THEN {sum}{per} \
                         WHEN ABS({scaled}{per}) <= {SCALED_MAX} THEN {scaled}{per} * {TWO_64} END"
                    );
                    outputs.push(format!(
                        "CASE WHEN {count} > 0 AND ABS({result}) <= {DOUBLE_MAX} THEN {result} END AS {name}"
                    ));
                }
                Aggregation::Latest => {
                    let (t, y) = (self.id(&format!("t{i}")), self.id(&format!("y{i}")));
                    typed.push(format!(
                        "CASE WHEN {} THEN {v} END AS {x}",
                        self.is_present(&v)
                    ));
                    let pt = self.id("pt");
                    let time = if input.timestamps.is_some() {
                        raw.push(format!(
                            "{} AS {t}",
                            self.get(&self.id("t"), &attribute.id)?
                        ));
                        format!("COALESCE({}, {pt})", self.time_json(&t)?)
                    } else {
                        pt
                    };
                    typed.push(format!("{time} AS {y}"));
                    let latest = window("latest");
                    windows.push(format!(
                        "FIRST_VALUE({x}) OVER ({by_key} ORDER BY CASE WHEN {x} IS NULL THEN 1 ELSE 0 END, {y} DESC NULLS LAST, {} DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS {latest}",
                        self.id("ord")
                    ));
                    outputs.push(format!("{latest} AS {name}"));
                }
            }
        }
        let keyed = self.keyed(&def.source_user_attribute, &raw, &typed, true)?;
        // A key's rows all share its size: keeping whole keys first changes no window.
        let windows: String = windows.iter().map(|w| format!(",\n    {w}")).collect();
        Ok(format!(
            "WITH {rows},\n{keyed},\n{} AS (\n  SELECT *{windows}\n  FROM {}\n  WHERE {} BETWEEN 2 AND 10\n)\nSELECT {}\nFROM {}\nORDER BY {}, {}",
            self.id("windows"),
            self.id("sized"),
            self.id("size"),
            outputs.join(",\n  "),
            self.id("windows"),
            self.id("first"),
            self.id("ord"),
        ))
    }

    fn oversized(&self, def: &GroupDefinition, input: &Input) -> Result<String, SqlError> {
        let rows = self.rows(input, false)?;
        let keyed = self.keyed(&def.source_user_attribute, &[], &[], false)?;
        Ok(format!(
            "WITH {rows},\n{keyed}\nSELECT {k} AS {}, MIN({size}) AS {size}\nFROM {}\nWHERE {size} > 10\nGROUP BY {k}\nORDER BY MIN({})",
            self.id("group_key"),
            self.id("sized"),
            self.id("first"),
            k = self.id("k"),
            size = self.id("size"),
        ))
    }
}

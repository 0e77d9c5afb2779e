//! Writes the fixtures of the SQL equivalence test (tests/sql): for each case, profiles
//! (flat NDJSON, what `preview_groups` reads), the same profiles as table rows (what the
//! SQL reads), the compiled queries for every dialect, and the engine's preview.
//!
//! Usage: `sql_fixture <out-dir> [--seed N] [--profiles N] [--skip-preview]`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use group_identity::definition::{Aggregation, GroupAttribute, GroupDefinition};
use group_identity::generator::{definition_for_generated, generate, GeneratorOptions};
use group_identity::sql::{to_sql, Columns, Dialect, SqlOptions};
use group_identity::Format;
use group_identity::{preview_groups, PreviewOptions};
use serde_json::value::RawValue;
use serde_json::{json, Value};

fn main() {
    if let Err(e) = run() {
        eprintln!("sql_fixture: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn run() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let (mut seed, mut profiles, mut skip_preview) = (1u64, 100_000usize, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().ok_or("--seed needs a value")?.parse()?,
            "--profiles" => profiles = args.next().ok_or("--profiles needs a value")?.parse()?,
            "--skip-preview" => skip_preview = true,
            _ if out.is_none() => out = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    let out = out.ok_or("usage: sql_fixture <out-dir> [--seed N] [--profiles N]")?;
    std::fs::create_dir_all(&out)?;

    let plain = Columns {
        mpid: "mpid".into(),
        attributes: "attributes".into(),
        attribute_timestamps: Some("attribute_timestamps".into()),
        updated_at: Some("updated_at".into()),
        last_stored_timestamp_ms: Some("last_stored_timestamp_ms".into()),
        order: "ord".into(),
    };
    let mut cases = Vec::new();

    // 1. The project's generator (flat, with its edge cases), its definition plus two
    //    attributes it does not aggregate by default.
    let mut ndjson = Vec::new();
    generate(
        &GeneratorOptions {
            seed,
            profiles,
            format: Format::Ndjson,
            flat: true,
            edge_cases: true,
        },
        &mut ndjson,
    );
    let mut definition = definition_for_generated();
    definition
        .attributes
        .push(attr("plan", Aggregation::Latest));
    definition
        .attributes
        .push(attr("age", Aggregation::Average));
    cases.push(write_case(
        &out,
        "generated",
        &definition,
        &ndjson,
        "profiles",
        &plain,
        true,
        skip_preview,
    )?);

    // 2. Every edge case of SPEC sections 3 to 5, many `latest` ties included.
    let names = Names::plain();
    let edges = edge_profiles(seed ^ 0x5eed, (profiles / 4).max(2_000), &names);
    cases.push(write_case(
        &out,
        "edges",
        &names.definition("household"),
        &edges,
        "profiles",
        &plain,
        true,
        skip_preview,
    )?);

    // 3. Hostile names everywhere: group id, attributes, table and columns.
    let names = Names::hostile();
    let hostile = edge_profiles(seed ^ 0xbad, 3_000, &names);
    let columns = Columns {
        mpid: "mp`id\"".into(),
        attributes: "attr's".into(),
        attribute_timestamps: Some("t[0].x".into()),
        updated_at: Some("up$dated".into()),
        last_stored_timestamp_ms: Some("ünï 😀".into()),
        order: "order".into(),
    };
    cases.push(write_case(
        &out,
        "hostile",
        &names.definition("g'\"`x"),
        &hostile,
        "x'); DROP TABLE t; --",
        &columns,
        false,
        skip_preview,
    )?);

    std::fs::write(out.join("cases.json"), serde_json::to_vec_pretty(&cases)?)?;
    Ok(())
}

fn attr(id: &str, aggregation: Aggregation) -> GroupAttribute {
    GroupAttribute {
        id: id.into(),
        aggregation,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_case(
    out: &Path,
    name: &str,
    definition: &GroupDefinition,
    ndjson: &[u8],
    table: &str,
    columns: &Columns,
    integer_mpids: bool,
    skip_preview: bool,
) -> Res<Value> {
    std::fs::write(out.join(format!("{name}.profiles.ndjson")), ndjson)?;
    let rows = table_rows(ndjson);
    std::fs::write(out.join(format!("{name}.table.ndjson")), rows)?;
    let mut queries = serde_json::Map::new();
    for (key, dialect) in [
        ("duckdb", Dialect::DuckDb),
        ("snowflake", Dialect::Snowflake),
        ("bigquery", Dialect::BigQuery),
        ("spark", Dialect::Spark),
    ] {
        let options = SqlOptions {
            dialect,
            table: table.into(),
            columns: columns.clone(),
        };
        queries.insert(
            key.into(),
            serde_json::to_value(to_sql(definition, &options)?)?,
        );
    }
    let mut preview_ms = Value::Null;
    if !skip_preview {
        let start = Instant::now();
        let preview = preview_groups(definition, ndjson, &PreviewOptions::default());
        preview_ms = json!(start.elapsed().as_secs_f64() * 1000.0);
        std::fs::write(
            out.join(format!("{name}.preview.json")),
            serde_json::to_vec(&preview)?,
        )?;
    }
    Ok(json!({
        "name": name,
        "definition": definition,
        "table": table,
        "columns": columns,
        "integerMpids": integer_mpids,
        "previewMs": preview_ms,
        "queries": queries,
    }))
}

/// The rows the SQL reads, one JSON object per readable record, in input order (`ord`):
/// `mpid` as text (NULL when the engine would not admit it), `attributes` and
/// `attribute_timestamps` as the record's JSON (numbers keep their text), and the two
/// profile times as text.
fn table_rows(ndjson: &[u8]) -> Vec<u8> {
    const SPECIAL: [&str; 4] = [
        "mpid",
        "user_attribute_timestamps",
        "updated_at",
        "last_stored_timestamp_ms",
    ];
    let mut out = String::new();
    let mut ord = 0u64;
    for line in ndjson.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        // Later duplicate keys replace earlier ones, as in the engine.
        let Ok(record) = serde_json::from_str::<BTreeMap<String, &RawValue>>(line.trim()) else {
            continue;
        };
        let timestamps = record.get("user_attribute_timestamps").map(|r| r.get());
        if timestamps.is_some_and(|t| !(t.starts_with('{') || t == "null")) {
            continue;
        }
        let attributes = match record.get("user_attributes") {
            Some(nested) if nested.get().starts_with('{') => nested.get().to_string(),
            Some(nested) if nested.get() != "null" => continue,
            _ => {
                let mut obj = String::from("{");
                for (key, value) in record
                    .iter()
                    .filter(|(k, _)| !SPECIAL.contains(&k.as_str()))
                {
                    if obj.len() > 1 {
                        obj.push(',');
                    }
                    let _ = write!(obj, "{}:{}", json!(key), value.get());
                }
                obj.push('}');
                obj
            }
        };
        let mpid = match record.get("mpid").map(|r| r.get()) {
            Some(text) if text.starts_with('"') => serde_json::from_str::<String>(text).ok(),
            Some(text) => text.parse::<i64>().ok().map(|m| m.to_string()),
            None => None,
        };
        let text = |field: &str| match record.get(field).map(|r| r.get()) {
            Some(t) if t.starts_with('"') => serde_json::from_str::<String>(t).ok(),
            Some(t) if t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                Some(t.to_string())
            }
            _ => None,
        };
        let row = json!({
            "mpid": mpid,
            "attribute_timestamps": "__TS__",
            "attributes": "__ATTRS__",
            "updated_at": text("updated_at"),
            "last_stored_timestamp_ms": text("last_stored_timestamp_ms"),
            "ord": ord,
        })
        .to_string()
        .replace("\"__TS__\"", timestamps.unwrap_or("null"))
        .replace("\"__ATTRS__\"", &attributes);
        out.push_str(&row);
        out.push('\n');
        ord += 1;
    }
    out.into_bytes()
}

/// Attribute names of the edge-case data, so the same data can carry hostile names.
struct Names {
    source: String,
    has_dog: String,
    ltv: String,
    visits: String,
    country: String,
    plan: String,
    score: String,
    flag: String,
}

impl Names {
    fn plain() -> Self {
        Names {
            source: "$address".into(),
            has_dog: "has_dog".into(),
            ltv: "ltv".into(),
            visits: "visits".into(),
            country: "country".into(),
            plan: "plan".into(),
            score: "score".into(),
            flag: "flag".into(),
        }
    }

    fn hostile() -> Self {
        Names {
            source: "$.[]\"\\".into(),
            has_dog: "x'); DROP TABLE t; --".into(),
            ltv: "a`b\"c'd".into(),
            visits: "ünï 😀".into(),
            country: "a/b~0.c[1]".into(),
            plan: "\\'\\\"".into(),
            score: "line\nbreak\ttab".into(),
            flag: "--".into(),
        }
    }

    fn definition(&self, id: &str) -> GroupDefinition {
        GroupDefinition {
            id: id.into(),
            description: None,
            source_user_attribute: self.source.clone(),
            attributes: vec![
                attr(&self.has_dog, Aggregation::BooleanOr),
                attr(&self.ltv, Aggregation::Sum),
                attr(&self.visits, Aggregation::Average),
                attr(&self.country, Aggregation::Latest),
                attr(&self.plan, Aggregation::Latest),
                attr(&self.score, Aggregation::Sum),
                attr(&self.flag, Aggregation::BooleanOr),
            ],
        }
    }
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items
        .get(rng.usize(0..items.len()))
        .copied()
        .unwrap_or("null")
}

/// Flat NDJSON profiles holding every edge case. Values are JSON texts.
fn edge_profiles(seed: u64, n: usize, names: &Names) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let households = (n / 4).max(1);
    let mut used: Vec<String> = Vec::new();
    let mut out = String::new();
    // Coarse instants (one second apart) in several spellings, so ties are common.
    let times = |rng: &mut fastrand::Rng| -> String {
        let k = rng.u64(0..4);
        let ms = 1_704_067_200_000 + k * 1000;
        match rng.u32(0..16) {
            0 => format!("\"2024-01-01T00:00:0{k}Z\""),
            1 => format!("\"2024-01-01T01:00:0{k}+01:00\""),
            2 => format!("\"2023-12-31t23:00:0{k}-01:00\""),
            3 => format!("\"2024-01-01 00:00:0{k}z\""),
            4 => format!("\"2024-01-01T00:00:0{k}.000Z\""),
            5 => format!("\"2024-01-01T00:00:0{k}.5Z\""),
            6 => ms.to_string(),
            7 => format!("\"{ms}\""),
            8 => format!("\" 2024-01-01T00:00:0{k}Z\\u00a0\""),
            9 => "\"yesterday\"".into(),
            10 => "\"\"".into(),
            11 => "null".into(),
            12 => "true".into(),
            13 => "-5".into(),
            14 => "\"2024-02-30T00:00:00Z\"".into(),
            _ => format!("{}", ms as f64 + 0.5),
        }
    };
    for i in 0..n {
        let mut fields: Vec<(String, String)> = Vec::new();
        // mpid
        let mpid = match rng.u32(0..200) {
            0 => None,
            1 => Some("null".to_string()),
            2 => Some("\"\"".to_string()),
            3..=6 if !used.is_empty() => used.get(rng.usize(0..used.len())).cloned(),
            7..=10 => Some(format!("\"{}\"", 1_000_000 + i)),
            11 => Some(format!("{}", -(i as i64) - 1)),
            12 => Some(format!("{}", 9_007_199_254_740_993i64 + i as i64)),
            13 => Some(format!("{}", i64::MAX - i as i64)),
            14 => Some(format!("\"{}\"", i64::MIN + i as i64)),
            _ => Some(format!("{}", 1_000_000 + i)),
        };
        if let Some(m) = &mpid {
            if rng.u32(0..20) == 0 {
                // The same id written the other way (number and string).
                let other = match m.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(inner) => inner.to_string(),
                    None => format!("\"{m}\""),
                };
                if other != "\"null\"" && !other.is_empty() {
                    used.push(other);
                }
            }
        }
        if let Some(m) = mpid {
            fields.push(("mpid".into(), m));
        }
        // key
        let h = rng.usize(0..households);
        let key = match rng.u32(0..100) {
            0..=1 => Some("null".to_string()),
            2..=3 => None,
            4 => Some("\"\"".to_string()),
            5 => Some("[\"1 Main St\"]".to_string()),
            6 => Some("{\"street\":\"1 Main St\"}".to_string()),
            _ => Some(match h % 50 {
                0 => format!("\"{}\"", h % 1000),
                1 if rng.bool() => format!("{}", 100_000 + h),
                1 => format!("\"{}\"", 100_000 + h),
                2 => pick(&mut rng, &["true", "false"]).to_string(),
                3 => format!("\"ééé{}\"", h % 100),
                4 => format!("\"{h} Oak St{}\"", if rng.bool() { " " } else { "" }),
                5 => format!(
                    "\"{h} {}\"",
                    pick(&mut rng, &["Elm Rd", "ELM RD", "elm rd"])
                ),
                6 => format!("{}.5", 1234 + h),
                7 => "\"Big Tower 1\"".to_string(),
                _ => format!("\"{h} Main St\""),
            }),
        };
        if let Some(k) = key {
            fields.push((names.source.clone(), k));
        }
        let mut put = |name: &str, value: &str| {
            if value != "ABSENT" {
                fields.push((name.to_string(), value.to_string()));
            }
        };
        put(
            &names.has_dog,
            pick(
                &mut rng,
                &[
                    "true",
                    "false",
                    "false",
                    "\"true\"",
                    "\"FALSE\"",
                    "\" TRUE \"",
                    "\"\\u00a0true\\u3000\"",
                    "\"yes\"",
                    "\"1\"",
                    "1",
                    "null",
                    "ABSENT",
                    "[true]",
                ],
            ),
        );
        let cents = rng.u32(0..100_000);
        let ltv = format!("{}.{:02}", cents / 100, cents % 100);
        put(
            &names.ltv,
            match rng.u32(0..20) {
                0..=7 => ltv.as_str(),
                8 => "ABSENT",
                _ => pick(
                    &mut rng,
                    &[
                        "\"12\"",
                        "\"-3.5\"",
                        "\"1e3\"",
                        "\" 12\"",
                        "\"0x10\"",
                        "\"inf\"",
                        "\"NaN\"",
                        "\"1_000\"",
                        "\"1.\"",
                        "\".5\"",
                        "\"+3\"",
                        "\"1e400\"",
                        "\"-0\"",
                        "null",
                        "true",
                        "[1]",
                        "17",
                        "-250",
                        // Totals past a double's range on the way, or for good.
                        "1e308",
                        "-1.5e308",
                        "\"1.7e308\"",
                    ],
                ),
            },
        );
        let visits = rng.u32(0..400).to_string();
        let visits_s = format!("\"{visits}\"");
        put(
            &names.visits,
            match rng.u32(0..10) {
                0..=5 => visits.as_str(),
                6 => visits_s.as_str(),
                7 => "\" 7 \"",
                8 => "1.5e308",
                _ => "ABSENT",
            },
        );
        put(
            &names.country,
            pick(
                &mut rng,
                &[
                    "\"US\"",
                    "\"DE\"",
                    "\"fr\"",
                    "12",
                    "1.5",
                    "true",
                    "[\"a\",1]",
                    "{\"x\":null}",
                    "\"\"",
                    "null",
                    "ABSENT",
                    "\"US\"",
                    "\"JP\"",
                ],
            ),
        );
        put(
            &names.plan,
            pick(&mut rng, &["\"free\"", "\"basic\"", "\"family\"", "ABSENT"]),
        );
        if rng.u32(0..30) == 0 {
            put(&names.score, pick(&mut rng, &["5", "\"2.5\"", "\"x\""]));
        }
        if rng.u32(0..30) == 0 {
            put(
                &names.flag,
                pick(&mut rng, &["true", "\"false\"", "\"no\""]),
            );
        }
        if rng.u32(0..10) < 7 {
            let t = times(&mut rng);
            fields.push((
                "user_attribute_timestamps".into(),
                format!("{{{}:{t}}}", json!(names.country)),
            ));
        }
        if rng.u32(0..10) < 6 {
            let t = times(&mut rng);
            if !t.starts_with("true") && !t.contains('.') || t.starts_with('"') {
                fields.push(("updated_at".into(), t));
            }
        }
        if rng.u32(0..10) < 5 {
            fields.push((
                "last_stored_timestamp_ms".into(),
                (1_704_067_200_000u64 + rng.u64(0..4) * 1000).to_string(),
            ));
        }
        out.push('{');
        for (j, (name, value)) in fields.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}:{value}", json!(name));
        }
        out.push_str("}\n");
    }
    out.into_bytes()
}

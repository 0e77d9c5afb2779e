//! The page's data logic, free of the DOM so it is tested natively: the definition form's
//! fields and their JSON, where each issue is shown, format detection, audience values and
//! the enriched profile download.

use std::collections::HashMap;

use group_identity::preview::Attributes;
use group_identity::profiles::{read_all, FullProfile};
use group_identity::{Format, Preview};
use serde_json::{Map, Value};

/// The aggregation types the type picker offers, in the reference's order.
pub const AGGREGATIONS: [&str; 4] = ["latest", "boolean_or", "sum", "average"];

/// The most attributes a definition may have (the form stops offering more).
pub const MAX_ATTRIBUTES: usize = 10;

/// Which endpoint the definition is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    Create,
    Update,
    Patch,
}

impl ModeKind {
    pub fn parse(text: &str) -> ModeKind {
        match text {
            "update" => ModeKind::Update,
            "patch" => ModeKind::Patch,
            _ => ModeKind::Create,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ModeKind::Create => "create",
            ModeKind::Update => "update",
            ModeKind::Patch => "patch",
        }
    }
}

/// What the form shows: every field as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormFields {
    pub id: String,
    pub description: String,
    pub source: String,
    /// `(id, type)` of each attribute row.
    pub attributes: Vec<(String, String)>,
}

fn field_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The form's view of a definition body; fields of the wrong type show as their JSON text.
pub fn fields_from_value(value: &Value) -> FormFields {
    let object = value.as_object();
    let get = |name: &str| object.and_then(|o| o.get(name));
    let attributes = match get("attributes") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let o = item.as_object();
                (
                    field_text(o.and_then(|o| o.get("id"))),
                    field_text(o.and_then(|o| o.get("type"))),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    FormFields {
        id: field_text(get("id")),
        description: field_text(get("description")),
        source: field_text(get("source_user_attribute")),
        attributes,
    }
}

/// Writes the form's fields into the body, keeping every other field (so a typo such as
/// `atributes` stays visible and keeps its warning). Empty optional fields are removed.
pub fn apply_fields(value: &mut Value, fields: &FormFields, mode: ModeKind) {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    let Some(object) = value.as_object_mut() else {
        return;
    };
    let mut set = |name: &str, text: &str, keep_empty: bool| {
        if text.is_empty() && !keep_empty {
            // `shift_remove` keeps the other fields where they were.
            object.shift_remove(name);
        } else {
            // Replacing a value keeps its place.
            object.insert(name.to_string(), Value::String(text.to_string()));
        }
    };
    // An empty required field stays as "" so its error shows by the field.
    set("id", &fields.id, mode == ModeKind::Create);
    set("description", &fields.description, false);
    set(
        "source_user_attribute",
        &fields.source,
        mode != ModeKind::Patch,
    );
    let old = match object.get_mut("attributes").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut old = old.into_iter();
    let attributes = fields
        .attributes
        .iter()
        .map(|(id, kind)| {
            let mut attribute = match old.next() {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            attribute.insert("id".into(), Value::String(id.clone()));
            attribute.insert("type".into(), Value::String(kind.clone()));
            Value::Object(attribute)
        })
        .collect();
    object.insert("attributes".into(), Value::Array(attributes));
}

/// The issue list an issue at `path` is shown in: the nearest enclosing path that has one
/// (`has` says which do), else the whole body's list (`""`).
pub fn container_for(path: &str, has: impl Fn(&str) -> bool) -> String {
    let mut current = path;
    while !current.is_empty() {
        if has(current) {
            return current.to_string();
        }
        current = match current.rfind('/') {
            Some(at) => &current[..at],
            None => "",
        };
    }
    String::new()
}

/// The format SPEC section 3 detects from the first non-blank character.
pub fn detect_format(sample: &[u8]) -> Format {
    let first = sample
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF));
    match first {
        Some(b'[') => Format::Json,
        Some(b'{') => Format::Ndjson,
        Some(_) => Format::Csv,
        None => Format::Auto,
    }
}

pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Auto => "auto",
        Format::Json => "json",
        Format::Ndjson => "ndjson",
        Format::Csv => "csv",
    }
}

pub fn format_label(format: Format) -> &'static str {
    match format {
        Format::Auto => "none yet",
        Format::Json => "JSON array",
        Format::Ndjson => "NDJSON",
        Format::Csv => "CSV",
    }
}

pub fn parse_format(text: &str) -> Format {
    match text {
        "json" => Format::Json,
        "ndjson" => Format::Ndjson,
        "csv" => Format::Csv,
        _ => Format::Auto,
    }
}

/// A condition value as typed: JSON when it parses (`true`, `12`, `"12"`), else the text.
pub fn condition_value(text: &str) -> Value {
    let trimmed = text.trim();
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) if !trimmed.is_empty() => value,
        _ => Value::String(text.to_string()),
    }
}

/// The body used to preview: a definition written for update or patch may lack the id,
/// which then comes from the path.
pub fn preview_body(value: &Value, path_group_id: &str) -> Value {
    let mut body = value.clone();
    if let Some(object) = body.as_object_mut() {
        if !object.contains_key("id") && !path_group_id.is_empty() {
            object.insert("id".into(), Value::String(path_group_id.to_string()));
        }
    }
    body
}

/// Download formats of the enriched profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    Ndjson,
    Csv,
}

/// Every profile of `input` with its own attributes and the ones it inherits, flat
/// (`{"mpid": "...", "$address": ..., "household:has_dog": true}`).
pub fn enrich(input: &[u8], format: Format, preview: &Preview, out: OutFormat) -> String {
    let (profiles, _) = read_all(input, format);
    let inherited = preview.inherited_by_mpid();
    let rows: Vec<(&FullProfile, Option<&Attributes>)> = profiles
        .iter()
        .map(|p| (p, inherited.get(p.mpid.as_str()).copied()))
        .collect();
    match out {
        OutFormat::Ndjson => {
            let mut text = String::new();
            for (profile, attrs) in rows {
                let mut object = Map::new();
                object.insert("mpid".into(), Value::String(profile.mpid.clone()));
                for (k, v) in &profile.attributes {
                    object.insert(k.clone(), v.clone());
                }
                for (k, v) in attrs.map(|a| a.0.as_slice()).unwrap_or_default() {
                    object.insert(k.to_string(), v.clone());
                }
                text.push_str(&Value::Object(object).to_string());
                text.push('\n');
            }
            text
        }
        OutFormat::Csv => {
            let mut columns: Vec<String> = vec!["mpid".into()];
            let mut seen: HashMap<String, usize> = HashMap::new();
            seen.insert("mpid".into(), 0);
            let mut add = |name: &str, columns: &mut Vec<String>| {
                if !seen.contains_key(name) {
                    seen.insert(name.to_string(), columns.len());
                    columns.push(name.to_string());
                }
            };
            for (profile, attrs) in &rows {
                for k in profile.attributes.keys() {
                    add(k, &mut columns);
                }
                for (k, _) in attrs.map(|a| a.0.as_slice()).unwrap_or_default() {
                    add(k, &mut columns);
                }
            }
            let mut text = csv_line(columns.iter().map(String::as_str));
            for (profile, attrs) in rows {
                let mut cells = vec![String::new(); columns.len()];
                let mut put = |k: &str, v: &Value| {
                    if let Some(cell) = seen.get(k).and_then(|&i| cells.get_mut(i)) {
                        *cell = match v {
                            Value::Null => String::new(),
                            other => crate::playground::dom::show_value(other),
                        };
                    }
                };
                put("mpid", &Value::String(profile.mpid.clone()));
                for (k, v) in &profile.attributes {
                    put(k, v);
                }
                for (k, v) in attrs.map(|a| a.0.as_slice()).unwrap_or_default() {
                    put(k, v);
                }
                text.push_str(&csv_line(cells.iter().map(String::as_str)));
            }
            text
        }
    }
}

/// One RFC 4180 record, CRLF-terminated; cells with `,`, `"` or line breaks are quoted.
/// A cell a spreadsheet would run as a formula gets a leading `'`, which spreadsheets
/// show as text: profile data is untrusted, and `=HYPERLINK(...)` must stay a string.
fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let guarded;
        let cell = if runs_as_formula(cell) {
            guarded = format!("'{cell}");
            guarded.as_str()
        } else {
            cell
        };
        if cell.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push_str("\r\n");
    line
}

/// True for a cell starting as a spreadsheet formula does (`=`, `+`, `-`, `@`, a tab or
/// a carriage return), except a plain negative number.
fn runs_as_formula(cell: &str) -> bool {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => !cell.get(1..).is_some_and(|n| {
            n.starts_with(|c: char| c.is_ascii_digit()) && n.parse::<f64>().is_ok()
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_and_json_round_trip_keeping_unknown_fields() {
        let mut body = json!({
            "id": "household",
            "atributes": [],
            "attributes": [{ "id": "has_dog", "type": "boolean_or", "note": 1 }]
        });
        let mut fields = fields_from_value(&body);
        assert_eq!(fields.id, "household");
        assert_eq!(
            fields.attributes,
            vec![("has_dog".into(), "boolean_or".into())]
        );
        fields.source = "$address".into();
        fields.attributes.push(("ltv".into(), "sum".into()));
        apply_fields(&mut body, &fields, ModeKind::Create);
        assert_eq!(
            serde_json::to_string(&body).unwrap_or_default(),
            serde_json::to_string(&json!({
                "id": "household",
                "atributes": [],
                "attributes": [
                    { "id": "has_dog", "type": "boolean_or", "note": 1 },
                    { "id": "ltv", "type": "sum" }
                ],
                "source_user_attribute": "$address"
            }))
            .unwrap_or_default(),
            "fields keep their order; new ones go last"
        );
        assert_eq!(fields_from_value(&body), fields);
    }

    #[test]
    fn empty_fields_follow_the_mode() {
        let fields = FormFields::default();
        let mut body = json!({ "description": "x" });
        apply_fields(&mut body, &fields, ModeKind::Create);
        assert_eq!(
            body,
            json!({ "id": "", "source_user_attribute": "", "attributes": [] })
        );
        let mut body = json!({});
        apply_fields(&mut body, &fields, ModeKind::Patch);
        assert_eq!(body, json!({ "attributes": [] }));
        let mut body = json!([1]);
        apply_fields(&mut body, &fields, ModeKind::Update);
        assert_eq!(
            body,
            json!({ "source_user_attribute": "", "attributes": [] })
        );
    }

    #[test]
    fn wrong_types_show_as_json_text() {
        let fields = fields_from_value(&json!({ "id": 12, "attributes": [{ "type": true }] }));
        assert_eq!(fields.id, "12");
        assert_eq!(fields.attributes, vec![(String::new(), "true".into())]);
        assert_eq!(fields_from_value(&json!("x")), FormFields::default());
    }

    #[test]
    fn issues_go_to_the_nearest_field() {
        let known = ["/id", "/attributes", "/attributes/1/type"];
        let has = |p: &str| known.contains(&p);
        assert_eq!(container_for("/id", has), "/id");
        assert_eq!(
            container_for("/attributes/1/type", has),
            "/attributes/1/type"
        );
        assert_eq!(container_for("/attributes/3/id", has), "/attributes");
        assert_eq!(container_for("/atributes", has), "");
        assert_eq!(container_for("", has), "");
    }

    #[test]
    fn formats_and_values() {
        assert_eq!(detect_format(b"  \n[{}]"), Format::Json);
        assert_eq!(detect_format(b"\xEF\xBB\xBF{\"mpid\":1}"), Format::Ndjson);
        assert_eq!(detect_format(b"mpid,$address"), Format::Csv);
        assert_eq!(detect_format(b"  "), Format::Auto);
        for f in [Format::Auto, Format::Json, Format::Ndjson, Format::Csv] {
            assert_eq!(parse_format(format_name(f)), f);
        }
        assert_eq!(condition_value("true"), json!(true));
        assert_eq!(condition_value("12"), json!(12));
        assert_eq!(condition_value("\"12\""), json!("12"));
        assert_eq!(condition_value("123 Main St"), json!("123 Main St"));
        assert_eq!(condition_value(""), json!(""));
    }

    #[test]
    fn preview_body_takes_the_path_id() {
        assert_eq!(
            preview_body(&json!({}), "household"),
            json!({ "id": "household" })
        );
        assert_eq!(
            preview_body(&json!({ "id": "a" }), "b"),
            json!({ "id": "a" })
        );
    }

    #[test]
    fn enrich_adds_inherited_attributes() {
        let definition = group_identity::GroupDefinition {
            id: "household".into(),
            description: None,
            source_user_attribute: "$address".into(),
            attributes: vec![group_identity::GroupAttribute {
                id: "has_dog".into(),
                aggregation: group_identity::Aggregation::BooleanOr,
            }],
        };
        let input =
            b"mpid,$address,has_dog\n1,123 Main St,true\n2,123 Main St,\n3,9 Elm Rd,false\n";
        let preview = group_identity::preview_groups(&definition, input, &Default::default());
        let ndjson = enrich(input, Format::Auto, &preview, OutFormat::Ndjson);
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1]["household:has_dog"], json!(true));
        assert_eq!(lines[1]["mpid"], json!("2"));
        assert_eq!(lines[2].get("household:has_dog"), None);
        let csv = enrich(input, Format::Auto, &preview, OutFormat::Csv);
        assert_eq!(
            csv,
            "mpid,$address,has_dog,household:has_dog\r\n1,123 Main St,true,true\r\n\
             2,123 Main St,,true\r\n3,9 Elm Rd,false,\r\n"
        );
    }

    #[test]
    fn csv_cells_are_quoted() {
        assert_eq!(
            csv_line(["a", "b,c", "d\"e"].into_iter()),
            "a,\"b,c\",\"d\"\"e\"\r\n"
        );
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_stay_text() {
        assert_eq!(
            csv_line(
                [
                    "=HYPERLINK(\"http://x/\",\"y\")",
                    "+1",
                    "@SUM(A1)",
                    "-2+3",
                    "-5",
                    "-1.5e3",
                    "\tx",
                    "a=b",
                ]
                .into_iter()
            ),
            "\"'=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\",'+1,'@SUM(A1),'-2+3,-5,-1.5e3,'\tx,a=b\r\n"
        );
    }
}

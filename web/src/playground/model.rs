//! The page's data logic, free of the DOM so it is tested natively: the definition form's
//! fields and their JSON, where each issue is shown, format detection and audience
//! values.

use group_identity::Format;
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

/// A byte order mark of a wide encoding at the start of a file (Excel's "Unicode Text" is
/// UTF-16 little-endian with `FF FE`): the encoding's name and the mark as written in hex.
/// The engine reads UTF-8 only; such a file read as UTF-8 would be a preview of garbage.
pub fn wide_bom(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32", "FF FE 00 00")),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32", "00 00 FE FF")),
        [0xFF, 0xFE, ..] => Some(("UTF-16", "FF FE")),
        [0xFE, 0xFF, ..] => Some(("UTF-16", "FE FF")),
        _ => None,
    }
}

/// The text of a UTF-16 file that starts with its byte order mark (either byte order),
/// without the mark; `None` for anything else, or when the UTF-16 is damaged (an odd
/// byte count, an unpaired surrogate).
pub fn decode_utf16(bytes: &[u8]) -> Option<String> {
    if wide_bom(bytes).map(|(name, _)| name) != Some("UTF-16") {
        return None;
    }
    let little = bytes.first() == Some(&0xFF);
    let rest = bytes.get(2..)?;
    if rest.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|pair| match pair {
            [a, b] if little => u16::from_le_bytes([*a, *b]),
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => 0,
        })
        .collect();
    String::from_utf16(&units).ok()
}

/// What the page says about a file in an encoding it cannot read.
pub fn wide_encoding_message(name: &str, mark: &str) -> String {
    format!(
        "This file is {name} (byte order mark {mark}): the playground reads UTF-8. Save it as UTF-8 (in Excel: CSV UTF-8) and choose it again."
    )
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
    fn wide_encodings_are_named_and_small_utf16_is_decoded() {
        assert_eq!(wide_bom(b"\xFF\xFEm\0"), Some(("UTF-16", "FF FE")));
        assert_eq!(wide_bom(b"\xFE\xFF\0m"), Some(("UTF-16", "FE FF")));
        assert_eq!(
            wide_bom(b"\xFF\xFE\0\0m\0\0\0"),
            Some(("UTF-32", "FF FE 00 00"))
        );
        assert_eq!(wide_bom(b"\xEF\xBB\xBFmpid"), None);
        assert_eq!(wide_bom(b"mpid"), None);
        let text = "mpid,$address\n1,M\u{fc}ller 1 \u{1F436}\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend(unit.to_le_bytes());
            be.extend(unit.to_be_bytes());
        }
        assert_eq!(decode_utf16(&le).as_deref(), Some(text));
        assert_eq!(decode_utf16(&be).as_deref(), Some(text));
        // Damaged: an odd byte count, a lone surrogate; and not UTF-16 at all.
        assert_eq!(decode_utf16(&le[..le.len() - 1]), None);
        assert_eq!(decode_utf16(b"\xFF\xFE\x00\xD8a\x00"), None);
        assert_eq!(decode_utf16(b"mpid"), None);
        assert!(wide_encoding_message("UTF-16", "FF FE").contains("UTF-16 (byte order mark FF FE)"));
    }
}

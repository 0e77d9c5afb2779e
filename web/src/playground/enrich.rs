//! The enriched profile download: every profile with its own attributes and the ones it
//! inherits, flat (`{"mpid": "...", "$address": ..., "household:has_dog": true}`), as
//! NDJSON or CSV. Written in two passes over the input, each in chunks, so a file of any
//! size is turned into text part by part and never held whole.

use std::collections::HashMap;

use group_identity::preview::Attributes;
use group_identity::profiles::{FullProfile, ProfileStream};
use group_identity::{GroupDefinition, PreviewOptions, PreviewSession};
use serde_json::{Map, Value};

/// Download formats of the enriched profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    Ndjson,
    Csv,
}

/// Takes the input twice: the first pass groups it (and, for CSV, finds the columns), the
/// second writes each profile it reads.
pub struct Enricher {
    out: OutFormat,
    options: PreviewOptions,
    pass: Pass,
}

enum Pass {
    First {
        preview: Box<PreviewSession>,
        /// CSV only: the header lists every attribute any profile has.
        columns: Option<(ProfileStream, Columns)>,
    },
    Second {
        stream: ProfileStream,
        writer: Writer,
    },
    Finished,
}

impl Enricher {
    pub fn new(definition: &GroupDefinition, options: &PreviewOptions, out: OutFormat) -> Self {
        let columns = (out == OutFormat::Csv).then(|| (stream(options), Columns::default()));
        Enricher {
            out,
            options: options.clone(),
            pass: Pass::First {
                preview: Box::new(PreviewSession::new(definition, options)),
                columns,
            },
        }
    }

    /// The next chunk of the input: nothing to write in the first pass, the text of the
    /// profiles it completed in the second.
    pub fn push(&mut self, chunk: &[u8]) -> String {
        match &mut self.pass {
            Pass::First { preview, columns } => {
                preview.push(chunk);
                if let Some((stream, columns)) = columns {
                    for profile in stream.push(chunk) {
                        columns.add_own(&profile);
                    }
                }
                String::new()
            }
            Pass::Second { stream, writer } => writer.write(&stream.push(chunk)),
            Pass::Finished => String::new(),
        }
    }

    /// After the whole input once: push it again from the start.
    pub fn second_pass(&mut self) {
        let Pass::First { preview, columns } = std::mem::replace(&mut self.pass, Pass::Finished)
        else {
            return;
        };
        let preview = preview.finish();
        let mut columns = match columns {
            Some((stream, mut columns)) => {
                for profile in stream.finish().profiles {
                    columns.add_own(&profile);
                }
                columns
            }
            None => Columns::default(),
        };
        for group in &preview.groups {
            columns.add_inherited(&group.attributes);
        }
        let inherited = preview
            .inherited_by_mpid()
            .into_iter()
            .map(|(mpid, attributes)| (mpid, attributes.clone()))
            .collect();
        self.pass = Pass::Second {
            stream: stream(&self.options),
            writer: Writer {
                out: self.out,
                inherited,
                columns,
                header_written: false,
            },
        };
    }

    /// The text of the last profiles (and, for a CSV of no profile, the header).
    pub fn finish(&mut self) -> String {
        let Pass::Second { stream, mut writer } = std::mem::replace(&mut self.pass, Pass::Finished)
        else {
            return String::new();
        };
        let text = writer.write(&stream.finish().profiles);
        if writer.out == OutFormat::Csv && !writer.header_written {
            return writer.header();
        }
        text
    }
}

/// The second pass's output: each profile with what it inherits.
struct Writer {
    out: OutFormat,
    /// What each grouped profile inherits, by mpid.
    inherited: HashMap<String, Attributes>,
    columns: Columns,
    header_written: bool,
}

impl Writer {
    fn header(&self) -> String {
        csv_line(self.columns.names.iter().map(String::as_str))
    }

    fn write(&mut self, profiles: &[FullProfile]) -> String {
        if profiles.is_empty() {
            return String::new();
        }
        let inherited = |profile: &FullProfile| {
            self.inherited
                .get(&profile.mpid)
                .map(|a| a.0.as_slice())
                .unwrap_or_default()
        };
        let mut text = String::new();
        match self.out {
            OutFormat::Ndjson => {
                for profile in profiles {
                    let mut object = Map::new();
                    object.insert("mpid".into(), Value::String(profile.mpid.clone()));
                    for (k, v) in times(profile, true) {
                        object.insert(k.into(), v);
                    }
                    for (k, v) in own(profile) {
                        object.insert(k.clone(), v.clone());
                    }
                    for (k, v) in inherited(profile) {
                        object.insert(k.as_ref().to_string(), v.clone());
                    }
                    text.push_str(&Value::Object(object).to_string());
                    text.push('\n');
                }
            }
            OutFormat::Csv => {
                if !self.header_written {
                    text = self.header();
                }
                let columns = &self.columns;
                for profile in profiles {
                    let mut cells = vec![String::new(); columns.names.len()];
                    let mut put = |k: &str, v: &Value| {
                        if let Some(cell) = columns.index.get(k).and_then(|&i| cells.get_mut(i)) {
                            *cell = match v {
                                Value::Null => String::new(),
                                other => crate::playground::dom::show_value(other),
                            };
                        }
                    };
                    put("mpid", &Value::String(profile.mpid.clone()));
                    for (k, v) in times(profile, false) {
                        put(k, &v);
                    }
                    for (k, v) in own(profile) {
                        put(k, v);
                    }
                    for (k, v) in inherited(profile) {
                        put(k.as_ref(), v);
                    }
                    text.push_str(&csv_line(cells.iter().map(String::as_str)));
                }
                self.header_written = true;
            }
        }
        text
    }
}

/// Names a flat row gives the profile's id and times, never an attribute.
const RESERVED: [&str; 4] = [
    "mpid",
    "updated_at",
    "last_stored_timestamp_ms",
    "user_attribute_timestamps",
];

/// A profile's own attributes as written out. A user attribute with a reserved name
/// (possible in the Profile API shape) is left out: in a flat row, `mpid` is the
/// profile's id and the others are its times, which must not be replaced by it.
fn own(profile: &FullProfile) -> impl Iterator<Item = (&String, &Value)> {
    profile
        .attributes
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
}

/// The times `latest` reads, as loaded, so that the download read again gives the same
/// `latest` values: `updated_at` and `last_stored_timestamp_ms`, and with `per_attribute`
/// (NDJSON; a CSV row has no place for them) `user_attribute_timestamps`.
fn times(
    profile: &FullProfile,
    per_attribute: bool,
) -> impl Iterator<Item = (&'static str, Value)> + '_ {
    let per_attribute = (per_attribute && !profile.attribute_timestamps.is_empty())
        .then(|| Value::Object(profile.attribute_timestamps.clone()));
    [
        ("updated_at", profile.updated_at.clone()),
        (
            "last_stored_timestamp_ms",
            profile.last_stored_timestamp_ms.clone(),
        ),
        ("user_attribute_timestamps", per_attribute),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
}

/// Whole profiles, without findings (the preview reports them).
fn stream(options: &PreviewOptions) -> ProfileStream {
    ProfileStream::new(options.format, 0)
}

/// The CSV header: `mpid`, the profiles' times and own attributes in the order first
/// seen, then the inherited ones.
struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            names: vec!["mpid".into()],
            index: HashMap::from([("mpid".to_string(), 0)]),
        }
    }
}

impl Columns {
    fn add(&mut self, name: &str) {
        if !self.index.contains_key(name) {
            self.index.insert(name.to_string(), self.names.len());
            self.names.push(name.to_string());
        }
    }

    fn add_own(&mut self, profile: &FullProfile) {
        for (name, _) in times(profile, false) {
            self.add(name);
        }
        for (name, _) in own(profile) {
            self.add(name);
        }
    }

    fn add_inherited(&mut self, attributes: &Attributes) {
        for (name, _) in &attributes.0 {
            self.add(name.as_ref());
        }
    }
}

/// The whole download at once, for an input already in memory.
pub fn enrich(
    definition: &GroupDefinition,
    options: &PreviewOptions,
    input: &[u8],
    out: OutFormat,
) -> String {
    let mut enricher = Enricher::new(definition, options, out);
    enricher.push(input);
    enricher.second_pass();
    let text = enricher.push(input);
    text + &enricher.finish()
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
    use group_identity::{Aggregation, GroupAttribute};
    use serde_json::json;

    fn household() -> GroupDefinition {
        GroupDefinition {
            id: "household".into(),
            description: None,
            source_user_attribute: "$address".into(),
            attributes: vec![GroupAttribute {
                id: "has_dog".into(),
                aggregation: Aggregation::BooleanOr,
            }],
        }
    }

    const INPUT: &[u8] =
        b"mpid,$address,has_dog\n1,123 Main St,true\n2,123 Main St,\n3,9 Elm Rd,false\n";

    #[test]
    fn enrich_adds_inherited_attributes() {
        let options = PreviewOptions::default();
        let ndjson = enrich(&household(), &options, INPUT, OutFormat::Ndjson);
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1]["household:has_dog"], json!(true));
        assert_eq!(lines[1]["mpid"], json!("2"));
        assert_eq!(lines[2].get("household:has_dog"), None);
        let csv = enrich(&household(), &options, INPUT, OutFormat::Csv);
        assert_eq!(
            csv,
            "mpid,$address,has_dog,household:has_dog\r\n1,123 Main St,true,true\r\n\
             2,123 Main St,,true\r\n3,9 Elm Rd,false,\r\n"
        );
    }

    #[test]
    fn in_chunks_the_download_is_the_one_shot_download() {
        let options = PreviewOptions::default();
        // A column first seen on the last line still makes the header.
        let input = [INPUT, b"4,5 Oak Ave,,late\n5,5 Oak Ave,true"].concat();
        let input =
            String::from_utf8(input)
                .unwrap_or_default()
                .replacen("has_dog\n", "has_dog,note\n", 1);
        for out in [OutFormat::Ndjson, OutFormat::Csv] {
            let whole = enrich(&household(), &options, input.as_bytes(), out);
            assert!(whole.contains("late"), "{whole}");
            for size in [1, 2, 7, 40, input.len()] {
                let mut enricher = Enricher::new(&household(), &options, out);
                for chunk in input.as_bytes().chunks(size) {
                    assert_eq!(enricher.push(chunk), "");
                }
                enricher.second_pass();
                let mut text = String::new();
                for chunk in input.as_bytes().chunks(size) {
                    text.push_str(&enricher.push(chunk));
                }
                text.push_str(&enricher.finish());
                assert_eq!(text, whole, "{out:?} in chunks of {size}");
            }
        }
        // No profile: a CSV is its header, NDJSON is empty.
        assert_eq!(enrich(&household(), &options, b"", OutFormat::Ndjson), "");
        assert_eq!(
            enrich(&household(), &options, b"mpid,$address\n", OutFormat::Csv),
            "mpid\r\n"
        );
    }

    #[test]
    fn a_user_attribute_named_mpid_never_replaces_the_id() {
        let input = br#"{"mpid":7,"user_attributes":{"mpid":"fake","$address":"1 Lone Rd"}}"#;
        let options = PreviewOptions::default();
        let ndjson = enrich(&household(), &options, input, OutFormat::Ndjson);
        let line: Value = serde_json::from_str(ndjson.trim()).unwrap_or_default();
        assert_eq!(line, json!({ "mpid": "7", "$address": "1 Lone Rd" }));
        let csv = enrich(&household(), &options, input, OutFormat::Csv);
        assert_eq!(csv, "mpid,$address\r\n7,1 Lone Rd\r\n");
    }

    #[test]
    fn the_times_latest_reads_go_into_the_download_and_give_the_same_latest() {
        let definition = GroupDefinition {
            attributes: vec![GroupAttribute {
                id: "country".into(),
                aggregation: Aggregation::Latest,
            }],
            ..household()
        };
        let input = concat!(
            r#"{"mpid":1,"updated_at":"2024-05-01T00:00:00Z","user_attributes":{"$address":"123 Main St","country":"US","updated_at":"not a time"},"user_attribute_timestamps":{"country":1700000000000}}"#,
            "\n",
            r#"{"mpid":2,"last_stored_timestamp_ms":1600000000000,"user_attributes":{"$address":"123 Main St","country":"CA"}}"#,
            "\n",
        );
        let options = PreviewOptions::default();
        let ndjson = enrich(&definition, &options, input.as_bytes(), OutFormat::Ndjson);
        let first: Value =
            serde_json::from_str(ndjson.lines().next().unwrap_or_default()).unwrap_or_default();
        // The profile's time wins over a user attribute of the same name.
        assert_eq!(first["updated_at"], json!("2024-05-01T00:00:00Z"));
        assert_eq!(
            first["user_attribute_timestamps"],
            json!({ "country": 1700000000000_i64 })
        );
        let csv = enrich(&definition, &options, input.as_bytes(), OutFormat::Csv);
        assert!(
            csv.starts_with(
                "mpid,updated_at,$address,country,last_stored_timestamp_ms,household:country\r\n"
            ),
            "{csv}"
        );
        // Read again, each download gives the latest its input gave.
        let latest = |text: &[u8]| {
            let preview = group_identity::preview_groups(&definition, text, &options);
            preview
                .groups
                .first()
                .and_then(|g| g.attributes.get("household:country").cloned())
        };
        let expected = latest(input.as_bytes());
        assert_eq!(expected, Some(json!("US")));
        assert_eq!(latest(ndjson.as_bytes()), expected);
        assert_eq!(latest(csv.as_bytes()), expected);
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

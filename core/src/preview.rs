//! The result of a preview: what the weekly group job would do to a set of profiles.

use serde::{ser::SerializeMap, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::profiles::Mpid;
use std::sync::Arc;

/// Options shared by every preview entry point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreviewOptions {
    pub format: crate::profiles::Format,
    /// Trim, collapse inner white space and lower-case keys before comparing them.
    pub normalize_keys: bool,
    /// Per-record diagnostics kept; the rest are only counted.
    pub max_diagnostics: usize,
    /// Entries kept in the `singletons` and `shortKeys` lists.
    pub max_listed: usize,
    /// For a JSON array: each record's `line` is its position in the array, from 1. For
    /// callers that wrote the text from values (one line says nothing then); the place
    /// of a broken array stays a line and column.
    #[serde(skip)]
    pub element_positions: bool,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            format: crate::profiles::Format::Auto,
            normalize_keys: false,
            max_diagnostics: 1000,
            max_listed: 1000,
            element_positions: false,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub group_id: String,
    /// The input format used (detected or named).
    pub format: crate::profiles::Format,
    pub stats: Stats,
    pub groups: Vec<Group>,
    pub oversized: Vec<Oversized>,
    /// Keys held by exactly one profile, in input order (at most `maxListed`).
    pub singletons: Vec<Singleton>,
    /// Keys under 5 characters, in input order (at most `maxListed`).
    pub short_keys: Vec<KeyCount>,
    /// How many distinct keys under 5 characters there were, listed or not.
    pub distinct_short_keys: u64,
    pub diagnostics: Vec<Diagnostic>,
    pub diagnostics_suppressed: u64,
}

impl Preview {
    /// What each grouped profile inherits, by mpid: the groups turned inside out.
    pub fn inherited_by_mpid(&self) -> std::collections::HashMap<String, &Attributes> {
        self.groups
            .iter()
            .flat_map(|g| g.members.iter().map(move |m| (m.to_text(), &g.attributes)))
            .collect()
    }
}

/// Counts that always add up:
/// `profiles = no_key + short_key + singletons + grouped_profiles + oversized_profiles`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub profiles: u64,
    pub skipped: u64,
    pub no_key: u64,
    pub short_key: u64,
    pub singletons: u64,
    pub groups: u64,
    pub grouped_profiles: u64,
    pub oversized_groups: u64,
    pub oversized_profiles: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: String,
    /// In input order; kept as ids (not text) so millions of members cost no allocation.
    pub members: Vec<Mpid>,
    pub attributes: Attributes,
}

/// Inherited attributes (`group:attribute` to value) in definition order. The names are
/// shared by every group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes(pub Vec<(Arc<str>, Value)>);

impl Attributes {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(&**name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor, not serde_json::Map: the map may sort keys; the order is the definition's.
        struct InOrder;
        impl<'de> serde::de::Visitor<'de> for InOrder {
            type Value = Attributes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of inherited attributes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Attributes, A::Error> {
                let mut list = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    list.push((name.into(), value));
                }
                Ok(Attributes(list))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oversized {
    pub key: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Singleton {
    pub key: String,
    pub mpid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// A problem found in the profiles. Problems in profiles never stop a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub level: Level,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mpid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
}

/// Shortens a value for a message: at most `max_chars` characters, then "…".
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

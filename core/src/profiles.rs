//! Profile input: formats, detection and reading records.

use serde::{Deserialize, Serialize};

/// The text format of a profile export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect from the first non-blank character: `[` JSON, `{` NDJSON, else CSV.
    #[default]
    Auto,
    Json,
    Ndjson,
    Csv,
}

/// One profile with all of its own user attributes, for tools that need whole records
/// (the emulator's profile store, enriched downloads).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FullProfile {
    pub mpid: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// Reads every profile with all of its attributes. Skipped records are reported the same
/// way a preview reports them.
pub fn read_all(
    _input: &[u8],
    _format: Format,
) -> (Vec<FullProfile>, Vec<crate::preview::Diagnostic>) {
    todo!("engine")
}

//! Audience conditions over a profile's own and inherited attributes (the reference's step 3).

use serde::{Deserialize, Serialize};

use crate::definition::GroupDefinition;
use crate::preview::PreviewOptions;

/// `{ attribute, operator, value }`; `value` is omitted for `exists` and `not_exists`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub attribute: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// Index of the condition in the list.
    pub index: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AudienceOptions {
    #[serde(flatten)]
    pub preview: PreviewOptions,
    /// Most mpids returned.
    pub limit: usize,
}

impl Default for AudienceOptions {
    fn default() -> Self {
        AudienceOptions {
            preview: PreviewOptions::default(),
            limit: 1000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceResult {
    pub total: u64,
    pub matched: u64,
    pub mpids: Vec<String>,
}

pub fn preview_audience(
    _definition: &GroupDefinition,
    _input: &[u8],
    _conditions: &[Condition],
    _options: &AudienceOptions,
) -> Result<AudienceResult, ConditionError> {
    todo!("engine")
}

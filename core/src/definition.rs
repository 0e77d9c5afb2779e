//! Group definitions and their validation (SPEC section 2).

use serde::{Deserialize, Serialize};

/// How a definition will be sent: each endpoint accepts a different body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST .../groups`: every rule applies, `id` is required.
    Create,
    /// `PUT .../groups/{group_id}`: `id` may be omitted; if present it must equal `group_id`.
    Update { group_id: String },
    /// `PATCH .../groups/{group_id}` ("set attributes"): only `attributes` is allowed.
    Patch,
}

/// The aggregation a group attribute uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Latest,
    BooleanOr,
    Sum,
    Average,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAttribute {
    pub id: String,
    #[serde(rename = "type")]
    pub aggregation: Aggregation,
}

/// A definition that passed validation and can drive a preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDefinition {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub source_user_attribute: String,
    pub attributes: Vec<GroupAttribute>,
}

/// One problem found in a definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable machine code, e.g. `too_long`, `unknown_aggregation`, `unknown_field`.
    pub code: String,
    /// JSON Pointer (RFC 6901) to the offending value; `""` for the whole body.
    pub path: String,
    /// Human text naming the limit and the value found.
    pub message: String,
}

/// The outcome of validating a definition: data, never an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub valid: bool,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

/// A request body read into typed fields, whatever mode it was validated in. Fields that
/// were absent (or invalid) are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefinitionBody {
    pub id: Option<String>,
    pub description: Option<String>,
    pub source_user_attribute: Option<String>,
    pub attributes: Option<Vec<GroupAttribute>>,
}

/// Validates a parsed JSON body. All issues are reported at once.
pub fn validate_definition(value: &serde_json::Value, mode: &Mode) -> Validation {
    read_definition(value, mode).0
}

/// Validates JSON text; a syntax error is one `invalid_json` issue naming line and column.
pub fn validate_definition_text(text: &str, mode: &Mode) -> Validation {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => validate_definition(&value, mode),
        Err(_) => todo!("validation helper"),
    }
}

/// Validates and, when there are no errors, returns the typed body.
pub fn read_definition(
    _value: &serde_json::Value,
    _mode: &Mode,
) -> (Validation, Option<DefinitionBody>) {
    todo!("validation helper")
}

impl GroupDefinition {
    /// A definition that can drive a preview: valid in create mode.
    pub fn from_value(value: &serde_json::Value) -> Result<GroupDefinition, Vec<Issue>> {
        let (validation, body) = read_definition(value, &Mode::Create);
        match body {
            Some(DefinitionBody {
                id: Some(id),
                description,
                source_user_attribute: Some(source_user_attribute),
                attributes: Some(attributes),
            }) if validation.valid => Ok(GroupDefinition {
                id,
                description,
                source_user_attribute,
                attributes,
            }),
            _ => Err(validation.errors),
        }
    }
}

//! The one way an error crosses into JavaScript: a thrown `Error` with a `name` callers can
//! test (`DefinitionError`, `ConditionError`, `SqlError`, `TypeError`) and, where useful, data
//! properties.

use group_identity::sql::SqlError;
use group_identity::{ConditionError, Issue, Validation};
use wasm_bindgen::JsValue;

/// Everything the bindings may throw.
pub(crate) enum Thrown {
    /// The definition cannot drive a preview; carries the validation errors as `issues`
    /// and its warnings (a misspelt field's "did you mean") as `warnings`.
    Definition(Validation),
    /// An audience condition is unusable; carries the condition's `index`.
    Condition(ConditionError),
    /// A name in the SQL options that no SQL text can carry (empty, or holding NUL).
    Sql(SqlError),
    /// An argument of the wrong JavaScript type or value; a real `TypeError`.
    Type(String),
    /// A call the object's state does not allow (e.g. `push` after `finish`).
    State(String),
    /// A value out of the range the package takes; a real `RangeError`.
    Range(String),
}

impl Thrown {
    /// Builds the JavaScript value to throw.
    pub(crate) fn into_js(self) -> JsValue {
        match self {
            Thrown::Definition(validation) => {
                let message = validation_message(
                    "invalid group definition",
                    &validation.errors,
                    &validation.warnings,
                );
                let error = named("DefinitionError", &message);
                set(&error, "issues", &issues_to_js(&validation.errors));
                set(&error, "warnings", &issues_to_js(&validation.warnings));
                error.into()
            }
            Thrown::Condition(err) => {
                let message = format!("conditions[{}]: {}", err.index, err.message);
                let error = named("ConditionError", &message);
                set(&error, "index", &JsValue::from(err.index as f64));
                error.into()
            }
            Thrown::Sql(err) => named("SqlError", &err.to_string()).into(),
            Thrown::Type(message) => js_sys::TypeError::new(&message).into(),
            Thrown::State(message) => js_sys::Error::new(&message).into(),
            Thrown::Range(message) => js_sys::RangeError::new(&message).into(),
        }
    }
}

impl From<Thrown> for JsValue {
    fn from(thrown: Thrown) -> JsValue {
        thrown.into_js()
    }
}

fn named(name: &str, message: &str) -> js_sys::Error {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    error
}

fn set(error: &js_sys::Error, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error cannot fail; ignoring the Result keeps one path.
    let _ = js_sys::Reflect::set(error, &JsValue::from_str(key), value);
}

/// Issues as a JavaScript array; issues are plain data, and should they not convert the
/// error carrying them still throws, with an empty array.
pub(crate) fn issues_to_js(issues: &[Issue]) -> JsValue {
    crate::convert::to_js(&issues).unwrap_or_else(|_| js_sys::Array::new().into())
}

/// "{lead}: /attributes/0/type: ... (and 2 more issues)", e.g. with the lead "invalid group
/// definition"; when the error shown is a missing field, followed by the warning that most
/// likely explains it ("; warning: /atributes: ... did you mean \"attributes\"?").
pub(crate) fn validation_message(lead: &str, errors: &[Issue], warnings: &[Issue]) -> String {
    let Some(first) = errors.first() else {
        return lead.to_owned();
    };
    let mut message = format!("{lead}: {}: {}", place(&first.path), first.message);
    match errors.len() {
        0 | 1 => {}
        2 => message.push_str(" (and 1 more issue)"),
        n => message.push_str(&format!(" (and {} more issues)", n - 1)),
    }
    if let Some(warning) = missing_field_hint(errors, warnings) {
        message.push_str(&format!(
            "; warning: {}: {}",
            place(&warning.path),
            warning.message
        ));
    }
    message
}

/// Where an issue is, for a message: its path, or "(body)" for the whole body.
fn place(path: &str) -> &str {
    if path.is_empty() {
        "(body)"
    } else {
        path
    }
}

/// When the error shown is a missing field, the warning that most likely explains it
/// (`atributes`: "did you mean \"attributes\"?"): the first warning with a suggestion, else
/// the first unknown field.
fn missing_field_hint<'a>(errors: &[Issue], warnings: &'a [Issue]) -> Option<&'a Issue> {
    if errors.first()?.code != "missing_field" {
        return None;
    }
    warnings
        .iter()
        .find(|w| w.message.contains("did you mean"))
        .or_else(|| warnings.iter().find(|w| w.code == "unknown_field"))
}

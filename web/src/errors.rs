//! The one way an error crosses into JavaScript: a thrown `Error` with a `name` callers can
//! test (`DefinitionError`, `ConditionError`, `SqlError`, `TypeError`) and, where useful, data
//! properties.

use group_identity::sql::SqlError;
use group_identity::{ConditionError, Issue};
use wasm_bindgen::JsValue;

/// Everything the bindings may throw.
pub(crate) enum Thrown {
    /// The definition cannot drive a preview; carries the validation errors as `issues`.
    Definition(Vec<Issue>),
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
            Thrown::Definition(issues) => {
                let error = named("DefinitionError", &definition_message(&issues));
                // Issues are plain data; if they cannot be converted the error still throws.
                let issues =
                    crate::convert::to_js(&issues).unwrap_or_else(|_| js_sys::Array::new().into());
                set(&error, "issues", &issues);
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

/// "invalid group definition: /attributes/0/type: ... (and 2 more issues)".
fn definition_message(issues: &[Issue]) -> String {
    let Some(first) = issues.first() else {
        return "invalid group definition".to_owned();
    };
    let place = if first.path.is_empty() {
        "(body)"
    } else {
        first.path.as_str()
    };
    let mut message = format!("invalid group definition: {place}: {}", first.message);
    match issues.len() {
        0 | 1 => {}
        2 => message.push_str(" (and 1 more issue)"),
        n => message.push_str(&format!(" (and {} more issues)", n - 1)),
    }
    message
}

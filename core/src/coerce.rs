//! Values as read from profiles, and the coercions each aggregation and audience operator
//! applies to them (SPEC section 5). One place, so the engine, audiences and the SQL
//! compiler's documentation agree.

use std::borrow::Cow;

/// A user attribute value borrowed from the input.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    /// A JSON number, as its exact text (grouping keys keep their text).
    Num(&'a str),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// An array or object, as its JSON text.
    Array(&'a str),
    Object(&'a str),
    /// An array or object, parsed.
    Json(Box<serde_json::Value>),
}

/// A value and, when it came from JSON, its exact JSON text (kept for `latest`).
#[derive(Clone, Debug, PartialEq)]
pub struct Slot<'a> {
    pub val: Val<'a>,
    pub raw: Option<&'a str>,
}

impl<'a> Slot<'a> {
    /// Reads a JSON value's text (as `serde_json::value::RawValue` gives it); a string no
    /// Rust string holds (a lone UTF-16 surrogate escape) reads as null. See
    /// [`Slot::read_json`].
    pub fn from_json(raw: &'a str) -> Slot<'a> {
        Slot::read_json(raw).unwrap_or(Slot {
            val: Val::Null,
            raw: Some(raw),
        })
    }

    /// Reads a JSON value's text (as `serde_json::value::RawValue` gives it). A
    /// `RawValue` checks only the form of a `\u` escape, so a string holding half of a
    /// UTF-16 surrogate pair gets here, and is refused with serde_json's error.
    pub fn read_json(raw: &'a str) -> Result<Slot<'a>, serde_json::Error> {
        let raw = raw.trim_start();
        let val = match raw.as_bytes().first() {
            Some(b'"') => match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(inner) if memchr::memchr(b'\\', inner.as_bytes()).is_none() => {
                    Val::Str(Cow::Borrowed(inner))
                }
                _ => Val::Str(Cow::Owned(serde_json::from_str::<String>(raw)?)),
            },
            Some(b't') => Val::Bool(true),
            Some(b'f') => Val::Bool(false),
            Some(b'n') | None => Val::Null,
            Some(b'[') => Val::Array(raw),
            Some(b'{') => Val::Object(raw),
            Some(_) => Val::Num(raw),
        };
        Ok(Slot {
            val,
            raw: Some(raw),
        })
    }

    /// A CSV cell: always a string.
    pub fn from_text(text: &'a str) -> Slot<'a> {
        Slot {
            val: Val::Str(Cow::Borrowed(text)),
            raw: None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.val, Val::Null)
    }

    /// The value as JSON text.
    pub fn to_json_text(&self) -> Cow<'a, str> {
        if let Some(raw) = self.raw {
            return Cow::Borrowed(raw);
        }
        let mut out = Vec::new();
        self.write_json(&mut out);
        Cow::Owned(String::from_utf8(out).unwrap_or_default())
    }

    /// Appends the value as JSON text.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        if let Some(raw) = self.raw {
            out.extend_from_slice(raw.as_bytes());
            return;
        }
        // Writing to a Vec cannot fail.
        let _ = match &self.val {
            Val::Null => serde_json::to_writer(&mut *out, &()),
            Val::Bool(b) => serde_json::to_writer(&mut *out, b),
            Val::Int(i) => serde_json::to_writer(&mut *out, i),
            Val::UInt(u) => serde_json::to_writer(&mut *out, u),
            Val::Float(f) => serde_json::to_writer(&mut *out, f),
            Val::Str(s) => serde_json::to_writer(&mut *out, s.as_ref()),
            Val::Json(v) => serde_json::to_writer(&mut *out, v),
            Val::Num(t) | Val::Array(t) | Val::Object(t) => {
                out.extend_from_slice(t.as_bytes());
                Ok(())
            }
        };
    }

    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.val {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::UInt(u) => Value::from(*u),
            Val::Float(f) => Value::from(*f),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Json(v) => (**v).clone(),
            Val::Num(t) | Val::Array(t) | Val::Object(t) => {
                serde_json::from_str(t).unwrap_or(Value::Null)
            }
        }
    }
}

/// `boolean_or`: `true`/`false`, or the strings "true"/"false" trimmed, in any letter case.
pub fn as_bool(val: &Val<'_>) -> Option<bool> {
    match val {
        Val::Bool(b) => Some(*b),
        Val::Str(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `sum` and `average`: numbers, and strings that parse whole (no trimming) as a finite
/// decimal number such as "12", "-3.5" or "1e3".
pub fn as_number(val: &Val<'_>) -> Option<f64> {
    match val {
        Val::Num(t) => parse_finite(t),
        Val::Str(s) => parse_finite(s),
        Val::Int(i) => Some(*i as f64),
        Val::UInt(u) => Some(*u as f64),
        Val::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// `latest`: any non-null value the output can carry. The readers keep a number beyond a
/// double's range (and an array or object holding one) as its text; no output can hold it.
pub fn fits_json(val: &Val<'_>) -> bool {
    match val {
        Val::Num(t) | Val::Array(t) | Val::Object(t) => parses_as_json(t),
        _ => true,
    }
}

/// Rare (a key's own text, or a value serde would not type): out of the common path.
#[cold]
#[inline(never)]
fn parses_as_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// Rust's float grammar, finite results only ("inf" and "NaN" are not numbers here).
pub fn parse_finite(text: &str) -> Option<f64> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => None,
    }
}

/// An array or object where a grouping key was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnusableKey;

/// A grouping key: strings as they are, numbers and booleans by their JSON text. `None`
/// for absent, null and empty; [`UnusableKey`] for arrays and objects.
pub fn key_text<'v>(val: &'v Val<'_>) -> Result<Option<Cow<'v, str>>, UnusableKey> {
    match val {
        Val::Null => Ok(None),
        Val::Str(s) if s.is_empty() => Ok(None),
        Val::Str(s) => Ok(Some(Cow::Borrowed(s))),
        Val::Num(t) => Ok(Some(Cow::Borrowed(t))),
        Val::Int(i) => Ok(Some(Cow::Owned(i.to_string()))),
        Val::UInt(u) => Ok(Some(Cow::Owned(u.to_string()))),
        Val::Float(f) => Ok(Some(Cow::Owned(serde_json::Value::from(*f).to_string()))),
        Val::Bool(true) => Ok(Some(Cow::Borrowed("true"))),
        Val::Bool(false) => Ok(Some(Cow::Borrowed("false"))),
        Val::Array(_) | Val::Object(_) | Val::Json(_) => Err(UnusableKey),
    }
}

/// `normalizeKeys`: trim, collapse inner white space to one space, lower-case (Unicode).
pub fn normalize_key(key: &str, out: &mut String) {
    out.clear();
    for word in key.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            // The whole word at once: a capital sigma that ends it becomes the final form
            // `ς`, as JavaScript's `toLowerCase` writes it, not `σ`.
            out.push_str(&word.to_lowercase());
        }
    }
}

/// A number as JSON: integral values without a fraction.
pub fn number_value(x: f64) -> Option<serde_json::Value> {
    if !x.is_finite() {
        return None;
    }
    // An integral double converts exactly while it is within i64 or u64 (2^63, 2^64);
    // past that it prints without a fraction anyway (`1e20`).
    if x.fract() == 0.0 {
        if x.abs() < 9_223_372_036_854_775_808.0 {
            return Some(serde_json::Value::from(x as i64));
        }
        if (0.0..18_446_744_073_709_551_616.0).contains(&x) {
            return Some(serde_json::Value::from(x as u64));
        }
    }
    serde_json::Number::from_f64(x).map(serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_classification() {
        assert_eq!(Slot::from_json("\"a\\\"b\"").val, Val::Str("a\"b".into()));
        assert_eq!(Slot::from_json("12.50").val, Val::Num("12.50"));
        assert_eq!(Slot::from_json("null").val, Val::Null);
        assert_eq!(Slot::from_json("[1]").val, Val::Array("[1]"));
    }

    #[test]
    fn coercions() {
        assert_eq!(as_bool(&Val::Str(" TRUE ".into())), Some(true));
        assert_eq!(as_bool(&Val::Str("yes".into())), None);
        assert_eq!(as_number(&Val::Str("1e3".into())), Some(1000.0));
        assert_eq!(as_number(&Val::Str(" 12".into())), None);
        assert_eq!(as_number(&Val::Str("NaN".into())), None);
        assert_eq!(number_value(3.0), Some(serde_json::json!(3)));
        assert_eq!(number_value(2.5), Some(serde_json::json!(2.5)));
    }

    #[test]
    fn normalization() {
        let mut out = String::new();
        normalize_key("  12  Main\tST ", &mut out);
        assert_eq!(out, "12 main st");
        // Unicode rules for the whole word: a final capital sigma is `ς`, as in "οδος".
        normalize_key("ΟΔΟΣ 12\u{3000}ΣΑΣ Straße", &mut out);
        assert_eq!(out, "οδος 12 σας straße");
    }
}

//! Audience conditions over a profile's own and inherited attributes (the reference's step 3).

use serde::{Deserialize, Serialize};

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::coerce::{self, Val};
use crate::definition::GroupDefinition;
use crate::engine::{key_of, GroupIndex, KeyOf};
use crate::preview::{Diagnostic, Group, PreviewOptions};
use crate::profiles::reader::{Reader, RecordSink};
use crate::profiles::record::{Scratch, Wanted};
use crate::profiles::{Diagnostics, MpidGate};
use crate::session::PreviewSession;

/// `{ attribute, operator, value }`; `value` is omitted for `exists` and `not_exists`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub attribute: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("condition {index}: {message}")]
pub struct ConditionError {
    /// Index of the condition in the list.
    pub index: usize,
    /// What is wrong with it (the index is not repeated here).
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

/// The operators of the audience builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Exists,
    NotExists,
    Contains,
}

impl Operator {
    fn parse(text: &str) -> Option<Operator> {
        Some(match text {
            "=" => Operator::Eq,
            "!=" => Operator::Ne,
            ">" => Operator::Gt,
            ">=" => Operator::Ge,
            "<" => Operator::Lt,
            "<=" => Operator::Le,
            "exists" => Operator::Exists,
            "not_exists" => Operator::NotExists,
            "contains" => Operator::Contains,
            _ => return None,
        })
    }
}

const OPERATORS: &str = "=, !=, >, >=, <, <=, exists, not_exists, contains";

/// A condition checked once, before any profile is read.
struct Check {
    /// Index in the second pass's wanted list (own attribute).
    slot: usize,
    attribute: String,
    operator: Operator,
    value: Value,
}

fn checks(conditions: &[Condition]) -> Result<Vec<(String, Operator, Value)>, ConditionError> {
    conditions
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let fail = |message: String| ConditionError { index, message };
            if c.attribute.is_empty() {
                return Err(fail("it has no attribute".to_owned()));
            }
            let operator = Operator::parse(&c.operator).ok_or_else(|| {
                fail(format!(
                    "unknown operator \"{}\"; expected one of {OPERATORS}",
                    c.operator
                ))
            })?;
            let value = c.value.clone().unwrap_or(Value::Null);
            match operator {
                Operator::Exists | Operator::NotExists if !value.is_null() => {
                    return Err(fail(format!(
                        "operator \"{}\" takes no value; found {value}",
                        c.operator
                    )))
                }
                Operator::Exists | Operator::NotExists => {}
                _ if value.is_null() => {
                    return Err(fail(format!("operator \"{}\" needs a value", c.operator)))
                }
                Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
                    if number(&value).is_none() =>
                {
                    return Err(fail(format!(
                        "operator \"{}\" compares numbers; found {value}",
                        c.operator
                    )))
                }
                _ => {}
            }
            Ok((c.attribute.clone(), operator, value))
        })
        .collect()
}

/// Which profiles match every condition, over their own attributes and the ones their
/// group gives them (an inherited value stands over an own attribute of the same name).
pub fn preview_audience(
    definition: &GroupDefinition,
    input: &[u8],
    conditions: &[Condition],
    options: &AudienceOptions,
) -> Result<AudienceResult, ConditionError> {
    let mut session = AudienceSession::new(definition, conditions, options)?;
    session.push(input);
    session.second_pass();
    session.push(input);
    Ok(session.finish())
}

/// [`preview_audience`] over an input read in chunks, twice: the first pass forms the
/// groups, the second matches each profile. Memory is that of a [`PreviewSession`], never
/// the input's size, so a file of any size can be counted.
pub struct AudienceSession {
    pass: Pass,
    wanted: Wanted,
    options: AudienceOptions,
    checks: Vec<(String, Operator, Value)>,
}

enum Pass {
    Groups(Box<PreviewSession>),
    Members(Box<(Reader, Matcher)>),
    Done,
}

impl AudienceSession {
    /// Checks the conditions; the session then takes the input's first pass.
    pub fn new(
        definition: &GroupDefinition,
        conditions: &[Condition],
        options: &AudienceOptions,
    ) -> Result<AudienceSession, ConditionError> {
        let checks = checks(conditions)?;
        let wanted = Wanted::new(
            std::iter::once(definition.source_user_attribute.clone())
                .chain(checks.iter().map(|(a, _, _)| a.clone())),
        )
        .with_texts();
        Ok(AudienceSession {
            pass: Pass::Groups(Box::new(PreviewSession::new(definition, &options.preview))),
            wanted,
            options: options.clone(),
            checks,
        })
    }

    /// Feeds the next chunk of the current pass, split anywhere.
    pub fn push(&mut self, chunk: &[u8]) {
        match &mut self.pass {
            Pass::Groups(session) => session.push(chunk),
            Pass::Members(second) => {
                let (reader, matcher) = &mut **second;
                reader.push(chunk, &self.wanted, matcher);
            }
            Pass::Done => {}
        }
    }

    /// Ends the first pass: push the same input again from its start. Once only; a later
    /// call changes nothing.
    pub fn second_pass(&mut self) {
        let session = match std::mem::replace(&mut self.pass, Pass::Done) {
            Pass::Groups(session) => session,
            other => {
                self.pass = other;
                return;
            }
        };
        let (preview, index) = (*session).finish_indexed();
        let checks = std::mem::take(&mut self.checks)
            .into_iter()
            .map(|(attribute, operator, value)| Check {
                slot: self.wanted.index_of(&attribute).unwrap_or(0),
                attribute,
                operator,
                value,
            })
            .collect();
        let matcher = Matcher {
            groups: preview.groups,
            index,
            checks,
            normalize: self.options.preview.normalize_keys,
            limit: self.options.limit,
            gate: MpidGate::default(),
            ignored: Diagnostics::new(0),
            buffer: String::new(),
            result: AudienceResult {
                total: 0,
                matched: 0,
                mpids: Vec::new(),
            },
        };
        let reader = Reader::new(self.options.preview.format)
            .with_element_positions(self.options.preview.element_positions);
        self.pass = Pass::Members(Box::new((reader, matcher)));
    }

    /// The result, after the second pass (before it, as if no profile matched).
    pub fn finish(mut self) -> AudienceResult {
        match std::mem::replace(&mut self.pass, Pass::Done) {
            Pass::Members(second) => {
                let (mut reader, mut matcher) = *second;
                reader.finish(&self.wanted, &mut matcher);
                matcher.result
            }
            _ => AudienceResult {
                total: 0,
                matched: 0,
                mpids: Vec::new(),
            },
        }
    }
}

struct Matcher {
    groups: Vec<Group>,
    index: GroupIndex,
    checks: Vec<Check>,
    normalize: bool,
    limit: usize,
    gate: MpidGate,
    ignored: Diagnostics,
    buffer: String,
    result: AudienceResult,
}

impl RecordSink for Matcher {
    fn record(&mut self, rec: &Scratch<'_>, line: u64) {
        let Some(mpid) = self.gate.admit(rec, line, &mut self.ignored) else {
            return;
        };
        self.result.total += 1;
        let group = match key_of(rec.value(0), self.normalize, &mut self.buffer) {
            KeyOf::Key(key) => self.index.group(key).and_then(|i| self.groups.get(i)),
            _ => None,
        };
        let matched = self.checks.iter().all(|check| {
            let attribute = match group.and_then(|g| g.attributes.get(&check.attribute)) {
                Some(inherited) => Some(Attribute::inherited(inherited)),
                None => rec
                    .value(check.slot)
                    .filter(|s| !s.is_null())
                    .map(|s| Attribute::of(s.to_json_text())),
            };
            holds(check.operator, attribute.as_ref(), &check.value)
        });
        if matched {
            self.result.matched += 1;
            if self.result.mpids.len() < self.limit {
                self.result.mpids.push(mpid.to_string());
            }
        }
    }
    fn reject(&mut self, _: Diagnostic) {}
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => coerce::parse_finite(s),
        _ => None,
    }
}

/// An attribute as a condition sees it: its JSON text as the input wrote it (inherited
/// values as the preview prints them), and the value that text holds (null for a number
/// beyond a double's range, which only its text can match). Each is made from the other
/// only when first asked for: `contains` over an array reads its items from the text
/// alone, and an inherited value, shared by up to ten members, is neither copied nor
/// printed for each of them.
struct Attribute<'t> {
    text: OnceCell<Cow<'t, str>>,
    value: OnceCell<Cow<'t, Value>>,
}

impl<'t> Attribute<'t> {
    fn of(text: Cow<'t, str>) -> Self {
        Attribute {
            text: OnceCell::from(text),
            value: OnceCell::new(),
        }
    }

    fn inherited(value: &'t Value) -> Self {
        Attribute {
            text: OnceCell::new(),
            value: OnceCell::from(Cow::Borrowed(value)),
        }
    }

    fn text(&self) -> &str {
        self.text
            .get_or_init(|| Cow::Owned(self.value.get().map(|v| v.to_string()).unwrap_or_default()))
    }

    fn value(&self) -> &Value {
        self.value
            .get_or_init(|| Cow::Owned(serde_json::from_str(self.text()).unwrap_or(Value::Null)))
    }

    /// An inherited value, known only as a value (no text was read for it).
    fn only_value(&self) -> Option<&Value> {
        match self.text.get() {
            None => self.value.get().map(|v| &**v),
            Some(_) => None,
        }
    }

    /// A number, a boolean, or a number no double holds.
    fn is_bare(&self) -> bool {
        match self.only_value() {
            Some(value) => matches!(value, Value::Number(_) | Value::Bool(_)),
            None => matches!(
                self.text().as_bytes().first(),
                Some(b'-' | b'0'..=b'9' | b't' | b'f')
            ),
        }
    }
}

/// `=`: booleans by the boolean coercion, numbers numerically, strings exactly (a number
/// or boolean attribute compares by its JSON text), arrays and objects structurally.
fn equals(attribute: &Attribute<'_>, wanted: &Value) -> bool {
    match wanted {
        Value::Bool(b) => {
            let val = match attribute.value() {
                Value::Bool(a) => Val::Bool(*a),
                Value::String(s) => Val::Str(s.as_str().into()),
                _ => return false,
            };
            coerce::as_bool(&val) == Some(*b)
        }
        Value::Number(_) => match (number(attribute.value()), number(wanted)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        // A number or boolean by its JSON text: `12.50` is "12.50", not "12.5".
        Value::String(s) => match attribute.value() {
            Value::String(a) => a == s,
            _ => attribute.is_bare() && attribute.text() == s.as_str(),
        },
        other => attribute.value() == other,
    }
}

fn holds(operator: Operator, attribute: Option<&Attribute<'_>>, wanted: &Value) -> bool {
    let Some(attribute) = attribute else {
        // Every comparison needs the attribute; only `not_exists` holds without it.
        return operator == Operator::NotExists;
    };
    let compare = |f: fn(f64, f64) -> bool| match (number(attribute.value()), number(wanted)) {
        (Some(a), Some(b)) => f(a, b),
        _ => false,
    };
    match operator {
        Operator::Exists => true,
        Operator::NotExists => false,
        Operator::Eq => equals(attribute, wanted),
        Operator::Ne => !equals(attribute, wanted),
        Operator::Gt => compare(|a, b| a > b),
        Operator::Ge => compare(|a, b| a >= b),
        Operator::Lt => compare(|a, b| a < b),
        Operator::Le => compare(|a, b| a <= b),
        Operator::Contains => contains(attribute, wanted),
    }
}

/// Membership in an array, item by item, or a substring of a string.
fn contains(attribute: &Attribute<'_>, wanted: &Value) -> bool {
    match attribute.only_value() {
        Some(Value::Array(items)) => {
            return items
                .iter()
                .any(|item| equals(&Attribute::inherited(item), wanted));
        }
        // Each item by its own text, as a whole attribute is (so an array holding a
        // number beyond a double's range is still read).
        None if attribute.text().starts_with('[') => {
            return serde_json::from_str::<Vec<&RawValue>>(attribute.text()).is_ok_and(|items| {
                items
                    .iter()
                    .any(|item| equals(&Attribute::of(Cow::Borrowed(item.get())), wanted))
            });
        }
        _ => {}
    }
    match attribute.value() {
        Value::String(text) => match wanted {
            Value::String(part) => text.contains(part.as_str()),
            // As the preview prints a number: 1000, not 1000.0.
            Value::Number(_) => number(wanted)
                .and_then(coerce::number_value)
                .is_some_and(|n| text.contains(&n.to_string())),
            Value::Bool(b) => text.contains(&b.to_string()),
            _ => false,
        },
        _ => false,
    }
}

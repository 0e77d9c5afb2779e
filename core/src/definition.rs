//! Group definitions and their validation (SPEC section 2).
//!
//! Decisions where the contract is silent:
//!
//! - `"description": null` is accepted as an absent description in create and update;
//!   `null` for any other field is `wrong_type`. A patch body holds `attributes` only,
//!   so there `"description": null` is `not_allowed_in_patch` like any other field.
//! - Attribute ids are compared exactly (case-sensitive) for `duplicate_attribute`; the
//!   issue is reported at the later occurrence's `/attributes/N/id` and names the first.
//! - `type` must be exact lower case: `"Latest"` is `unknown_aggregation`, and the message
//!   suggests `"latest"` when the value matches a known type ignoring case, `_`, `-` and
//!   spaces.
//! - `too_many_attributes` and `no_attributes` are reported at `/attributes`.
//! - A required field that is absent is `missing_field` at the object that lacks it: `""`
//!   for the body, `/attributes/N` for an attribute without `id` or `type` (both are
//!   required there). A field present with the wrong JSON type (`null` included) is
//!   `wrong_type`, not `missing_field`.
//! - In `patch` mode every field other than `attributes` is `not_allowed_in_patch`
//!   (read-only and unknown fields included; unknown ones also get the `unknown_field`
//!   warning so a typo such as `atributes` is named). The values of fields that are not
//!   allowed are not checked further.
//! - In `update` mode a present `id` is checked as in `create` (length, white space, `:`)
//!   and, independently, compared exactly with the path's group id (`id_mismatch`).
//! - `ambiguous_id` and `whitespace` apply to the group id and to every attribute id;
//!   `whitespace` also to `source_user_attribute`. White space is Unicode `White_Space`.
//! - `source_in_attributes` compares each attribute id with `source_user_attribute`
//!   exactly and is reported at `/attributes/N/id`.
//! - `unknown_field` names the closest known field when one is close (equal ignoring case,
//!   `_`, `-` and spaces, a prefix of it, or a small edit distance away); otherwise the
//!   message lists the known fields.
//! - JSON text may repeat a key. Like most JSON readers the last value is used; every
//!   earlier occurrence gets the warning `duplicate_field` and is not checked further.
//! - Issues come in document order of the body (each object's fields in the order
//!   written, attributes in array order). Issues about a whole object or array
//!   (`missing_field`, `too_many_attributes`, `no_attributes`) follow the issues inside
//!   it, so body-level issues come last. [`validate_definition`] on a `serde_json::Value`
//!   follows that value's map order (sorted keys unless serde_json's `preserve_order`
//!   feature is on); [`validate_definition_text`] keeps the order written.
//! - Lengths count Unicode code points. Messages quote strings with escapes visible and
//!   cut them after 40 code points with `…`; the length given is always the full one.
//! - `invalid_json` messages give the 1-based line and 1-based column, counted in
//!   characters (code points), where the JSON reader stopped; an empty or blank text says
//!   so; an error at a line break stands at the end of the line it ends. A body nested
//!   deeper than 127 levels is `invalid_json` (the reader's limit).

use std::collections::HashMap;
use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Fewest code points in a group id.
pub const GROUP_ID_MIN_CHARS: usize = 3;
/// Most code points in a group id.
pub const GROUP_ID_MAX_CHARS: usize = 32;
/// Most code points in a description.
pub const DESCRIPTION_MAX_CHARS: usize = 255;
/// Fewest code points in `source_user_attribute`.
pub const SOURCE_MIN_CHARS: usize = 1;
/// Most code points in `source_user_attribute` (the user attribute key limit).
pub const SOURCE_MAX_CHARS: usize = 255;
/// Fewest code points in an attribute id.
pub const ATTRIBUTE_ID_MIN_CHARS: usize = 1;
/// Most code points in an attribute id: 32 + ":" + 223 = 256, the user attribute key limit.
pub const ATTRIBUTE_ID_MAX_CHARS: usize = 223;
/// Most attributes in one definition.
pub const MAX_ATTRIBUTES: usize = 10;

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
    read_definition_text(text, mode).0
}

/// Validates and, when there are no errors, returns the typed body.
pub fn read_definition(
    value: &serde_json::Value,
    mode: &Mode,
) -> (Validation, Option<DefinitionBody>) {
    check(&Tree::from_value(value, VALUE_DEPTH), mode)
}

/// [`read_definition`] for JSON text: issues follow the order fields are written in, a
/// repeated key is reported (`duplicate_field`) and a syntax error is one `invalid_json`
/// issue naming line and column.
pub fn read_definition_text(text: &str, mode: &Mode) -> (Validation, Option<DefinitionBody>) {
    let tree = serde_json::from_str::<Tree>(text).or_else(|error| {
        // A number past a double's range (`1e400`) is still JSON, which serde refuses to
        // type: the text is read again keeping numbers as written, so the body gets its
        // `wrong_type` or `unknown_field` as for any other value.
        if crate::json_error::out_of_range(&error) {
            Tree::from_raw_text(text)
        } else {
            Err(Reread::Serde(error))
        }
    });
    match tree {
        Ok(tree) => check(&tree, mode),
        Err(error) => {
            let message = match error {
                Reread::Serde(error) => syntax_message(text, &error),
                Reread::At { what, offset } => placed_message(text, offset, &what),
            };
            let issue = Issue {
                code: "invalid_json".into(),
                path: String::new(),
                message,
            };
            (
                Validation {
                    valid: false,
                    errors: vec![issue],
                    warnings: Vec::new(),
                },
                None,
            )
        }
    }
}

/// Escapes one JSON Pointer reference token (RFC 6901): `~` as `~0`, `/` as `~1`.
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Aggregation {
    /// The exact lower-case name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Latest => "latest",
            Aggregation::BooleanOr => "boolean_or",
            Aggregation::Sum => "sum",
            Aggregation::Average => "average",
        }
    }

    /// Parses the exact lower-case name; anything else is `None`.
    pub fn parse(name: &str) -> Option<Aggregation> {
        AGGREGATIONS.iter().copied().find(|a| a.as_str() == name)
    }
}

const AGGREGATIONS: [Aggregation; 4] = [
    Aggregation::Latest,
    Aggregation::BooleanOr,
    Aggregation::Sum,
    Aggregation::Average,
];

const READ_ONLY_FIELDS: [&str; 4] = [
    "created_on",
    "created_by",
    "last_modified_on",
    "last_modified_by",
];
const ATTRIBUTE_FIELDS: [&str; 2] = ["id", "type"];
/// Every field a body may name, for `unknown_field` suggestions.
const BODY_FIELDS: [&str; 8] = [
    "id",
    "description",
    "source_user_attribute",
    "attributes",
    "created_on",
    "created_by",
    "last_modified_on",
    "last_modified_by",
];

/// Strings longer than this many code points are cut in messages.
const QUOTE_CHARS: usize = 40;

/// Levels of a `serde_json::Value` copied for validation: body, `attributes`, attribute
/// object, field value. Deeper containers are never looked into (messages only name their
/// kind), so they are copied empty; this also bounds recursion on hand-built values.
const VALUE_DEPTH: usize = 4;

/// JSON with object members in the order written and repeated keys kept, so issues can
/// follow document order and duplicates can be reported. Numbers keep only their text.
#[derive(Debug)]
enum Tree {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

impl Tree {
    fn from_value(value: &serde_json::Value, depth: usize) -> Tree {
        use serde_json::Value;
        match value {
            Value::Null => Tree::Null,
            Value::Bool(b) => Tree::Bool(*b),
            Value::Number(n) => Tree::Number(n.to_string()),
            Value::String(s) => Tree::String(s.clone()),
            Value::Array(items) if depth > 0 => Tree::Array(
                items
                    .iter()
                    .map(|item| Tree::from_value(item, depth - 1))
                    .collect(),
            ),
            Value::Array(_) => Tree::Array(Vec::new()),
            Value::Object(map) if depth > 0 => Tree::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_value(v, depth - 1)))
                    .collect(),
            ),
            Value::Object(_) => Tree::Object(Vec::new()),
        }
    }

    /// The tree of JSON text that serde cannot type for a number's range. Read through
    /// `RawValue`, which checks a number's grammar but not its range; a number serde can
    /// type is written as the typed read writes it. The errors are the ones the typed
    /// read would give, where it would give them: a syntax error, a string no Rust string
    /// holds (a lone UTF-16 surrogate: `RawValue` checks only an escape's form), or
    /// nesting deeper than the typed read allows.
    fn from_raw_text(text: &str) -> Result<Tree, Reread> {
        let raw: &RawValue = serde_json::from_str(text).map_err(Reread::Serde)?;
        Tree::from_raw(raw, crate::json_error::MAX_NESTING, text)
    }

    /// `whole` is the text `raw` stands in, to place an error in it.
    fn from_raw(raw: &RawValue, depth: usize, whole: &str) -> Result<Tree, Reread> {
        let text = raw.get();
        // Where this value starts in the whole text (a `RawValue` borrows from it).
        let start = (text.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
        let read = |error: serde_json::Error| Reread::at_error(text, start, &error);
        let too_deep = || Reread::At {
            what: crate::json_error::what_nested(),
            offset: start,
        };
        Ok(match text.as_bytes().first() {
            Some(b'{') => {
                let depth = depth.checked_sub(1).ok_or_else(too_deep)?;
                let RawMembers(members) = serde_json::from_str(text).map_err(read)?;
                Tree::Object(
                    members
                        .into_iter()
                        .map(|(key, value)| Ok((key, Tree::from_raw(value, depth, whole)?)))
                        .collect::<Result<_, _>>()?,
                )
            }
            Some(b'[') => {
                let depth = depth.checked_sub(1).ok_or_else(too_deep)?;
                let items: Vec<&RawValue> = serde_json::from_str(text).map_err(read)?;
                Tree::Array(
                    items
                        .into_iter()
                        .map(|item| Tree::from_raw(item, depth, whole))
                        .collect::<Result<_, _>>()?,
                )
            }
            Some(b'-' | b'0'..=b'9') => {
                serde_json::from_str(text).unwrap_or_else(|_| Tree::Number(text.to_owned()))
            }
            _ => serde_json::from_str(text).map_err(read)?,
        })
    }

    /// "a string (\"ab\")", "a number (12)", "an array", ... for messages.
    fn describe(&self) -> String {
        match self {
            Tree::Null => "null".into(),
            Tree::Bool(b) => format!("a boolean ({b})"),
            Tree::Number(n) => format!("a number ({})", cut(n)),
            Tree::String(s) => format!("a string ({})", quote(s)),
            Tree::Array(_) => "an array".into(),
            Tree::Object(_) => "an object".into(),
        }
    }
}

// The reader's own nesting limit (serde_json stops at 128 levels) keeps this recursion
// bounded on any text.
impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Number(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Number(
            serde_json::Number::from_f64(v)
                .map(|n| n.to_string())
                .unwrap_or_else(|| v.to_string()),
        ))
    }

    fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::String(v))
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Tree>()? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Tree>()? {
            entries.push(entry);
        }
        Ok(Tree::Object(entries))
    }
}

/// An object's members in the order written, repeated keys kept, values unread.
struct RawMembers<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawMembers<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = RawMembers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMembers<'a>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'a RawValue>()? {
                    members.push(member);
                }
                Ok(RawMembers(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}

/// Why the text of a body holding a number past a double's range could not be read
/// again: serde's own error on the whole text, or what went wrong and where (a byte
/// offset in the whole text) in a value read on its own.
enum Reread {
    Serde(serde_json::Error),
    At { what: String, offset: usize },
}

impl Reread {
    /// `error` from reading `slice`, which starts `start` bytes into the whole text.
    fn at_error(slice: &str, start: usize, error: &serde_json::Error) -> Reread {
        Reread::At {
            what: crate::json_error::what(error),
            offset: start + offset_of(slice, error.line(), error.column()),
        }
    }
}

/// The byte offset in `text` of serde_json's 1-based line and byte column. A column past
/// its line's text stays on that line, at its line break.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let len = text
        .get(start..)
        .and_then(|rest| rest.split('\n').next())
        .map_or(0, str::len);
    start + column.saturating_sub(1).min(len)
}

/// The `invalid_json` message for an error `offset` bytes into `text`: its line, and its
/// column in characters (serde_json counts bytes; people and editors count characters),
/// the character the offset falls in.
fn placed_message(text: &str, offset: usize, what: &str) -> String {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, chars) + 1;
    format!("the body is not valid JSON at line {line}, column {column}: {what}")
}

/// The `invalid_json` message for a syntax error: what went wrong, line and column.
fn syntax_message(text: &str, error: &serde_json::Error) -> String {
    // JSON's white space only: a no-break space is text, and not JSON.
    if text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return "the body is empty; expected a JSON object".into();
    }
    if text.starts_with('\u{feff}') {
        // RFC 8259: JSON sent over a network must not start with one; editors on
        // Windows save one, and it is invisible.
        return "the body is not valid JSON at line 1, column 1: it starts with a byte order mark (U+FEFF), which JSON sent to the API must not have; remove it".into();
    }
    let what = crate::json_error::what(error);
    let (line, byte_column) = crate::json_error::position(text.as_bytes(), error);
    if line == 0 {
        return format!("the body is not valid JSON: {what}");
    }
    placed_message(text, offset_of(text, line, byte_column), &what)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A string for a message: debug-quoted so white space and control characters show, cut
/// after [`QUOTE_CHARS`] code points.
fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((end, _)) => format!("{:?}…", s.get(..end).unwrap_or(s)),
        None => format!("{s:?}"),
    }
}

/// Long number text cut like strings.
fn cut(s: &str) -> String {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((end, _)) => format!("{}…", s.get(..end).unwrap_or(s)),
        None => s.to_owned(),
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lower case without `_`, `-` and spaces, to match `sourceUserAttribute` with
/// `source_user_attribute` or `Boolean-Or` with `boolean_or`.
fn loose(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The known name `name` was probably meant to be, if any is close enough to suggest.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    // Bound the work on huge keys: nothing that long is a typo of a short field name.
    if chars(name) > 64 {
        return None;
    }
    let wanted = loose(name);
    if wanted.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &'k str)> = None;
    for candidate in known {
        let c = loose(candidate);
        if c == wanted {
            return Some(candidate);
        }
        let distance = strsim::damerau_levenshtein(&wanted, &c);
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    // A prefix of a known name (`desc`, `source`) is meant as that name, whatever the
    // distance; the first in the known order when several share it.
    if chars(&wanted) >= 3 {
        if let Some(candidate) = known.iter().find(|c| loose(c).starts_with(&wanted)) {
            return Some(candidate);
        }
    }
    let (distance, candidate) = best?;
    (distance <= (chars(candidate) / 3).max(1)).then_some(candidate)
}

/// "leading", "trailing" or "leading and trailing" white space, if any.
fn edge_whitespace(s: &str) -> Option<&'static str> {
    let leading = s.starts_with(char::is_whitespace);
    let trailing = s.ends_with(char::is_whitespace);
    match (leading, trailing) {
        (true, true) => Some("leading and trailing"),
        (true, false) => Some("leading"),
        (false, true) => Some("trailing"),
        (false, false) => None,
    }
}

/// For each key, the index of its last occurrence: that one is used, earlier ones are
/// reported as `duplicate_field`.
fn last_indices(entries: &[(String, Tree)]) -> HashMap<&str, usize> {
    let mut last = HashMap::with_capacity(entries.len());
    for (i, (key, _)) in entries.iter().enumerate() {
        last.insert(key.as_str(), i);
    }
    last
}

struct Checker<'a> {
    mode: &'a Mode,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    /// The group id inherited names will start with, for `ambiguous_id` messages.
    group_name: String,
    /// An attribute id for the group id's `ambiguous_id` example.
    example_attribute: String,
    /// `source_user_attribute` when it is a string, for `source_in_attributes`.
    source: Option<String>,
}

impl Checker<'_> {
    fn error(&mut self, code: &str, path: &str, message: String) {
        self.errors.push(Issue {
            code: code.into(),
            path: path.into(),
            message,
        });
    }

    fn warning(&mut self, code: &str, path: &str, message: String) {
        self.warnings.push(Issue {
            code: code.into(),
            path: path.into(),
            message,
        });
    }

    fn wrong_type(&mut self, path: &str, what: &str, found: &Tree) {
        let message = format!("{what}; found {}", found.describe());
        self.error("wrong_type", path, message);
    }

    /// Checks a length in code points; true when within `min..=max`.
    fn length(&mut self, path: &str, label: &str, value: &str, min: usize, max: usize) -> bool {
        let n = chars(value);
        if n >= min && n <= max {
            return true;
        }
        let limit = if min == 0 {
            format!("at most {max}")
        } else {
            format!("{min} to {max}")
        };
        let code = if n < min { "too_short" } else { "too_long" };
        let message = format!(
            "{label} must be {limit} characters; found {n} ({})",
            quote(value)
        );
        self.error(code, path, message);
        false
    }

    fn whitespace(&mut self, path: &str, label: &str, value: &str) {
        if let Some(edges) = edge_whitespace(value) {
            let message = format!(
                "{label} {} has {edges} white space; it is kept as sent, not trimmed",
                quote(value)
            );
            self.warning("whitespace", path, message);
        }
    }

    fn duplicate_field(&mut self, path: &str, key: &str) {
        let message = format!(
            "field {} appears more than once; only the last value is used",
            quote(key)
        );
        self.warning("duplicate_field", path, message);
    }

    fn unknown_field(&mut self, path: &str, key: &str, known: &[&str], place: &str) {
        let hint = match closest(key, known) {
            Some(name) => format!("did you mean \"{name}\"?"),
            None => format!("known fields: {}", list(known)),
        };
        // In a PATCH body the field is an error (`not_allowed_in_patch`), not ignored.
        let ignored = if matches!(self.mode, Mode::Patch) && place == "the body" {
            ""
        } else {
            " and is ignored"
        };
        let message = format!(
            "unknown field {} in {place} is not defined by the API{ignored}; {hint}",
            quote(key)
        );
        self.warning("unknown_field", path, message);
    }

    fn body(&mut self, tree: &Tree) -> Option<DefinitionBody> {
        let entries = match tree {
            Tree::Object(entries) => entries,
            other => {
                let message = format!(
                    "the body must be a JSON object (a group definition); found {}",
                    other.describe()
                );
                self.error("invalid_json", "", message);
                return None;
            }
        };
        let last = last_indices(entries);
        let used = |key: &str| last.get(key).and_then(|&i| entries.get(i)).map(|e| &e.1);
        self.group_name = match (used("id"), self.mode) {
            (Some(Tree::String(id)), _) => id.clone(),
            (_, Mode::Update { group_id }) => group_id.clone(),
            _ => "group".into(),
        };
        self.example_attribute = match used("attributes") {
            Some(Tree::Array(items)) => items.iter().find_map(|item| match item {
                Tree::Object(fields) => fields.iter().rev().find_map(|(k, v)| match v {
                    Tree::String(id) if k == "id" && !id.is_empty() => Some(id.clone()),
                    _ => None,
                }),
                _ => None,
            }),
            _ => None,
        }
        .unwrap_or_else(|| "attribute".into());
        let is_patch = matches!(self.mode, Mode::Patch);
        if !is_patch {
            if let Some(Tree::String(source)) = used("source_user_attribute") {
                self.source = Some(source.clone());
            }
        }

        let errors_before = self.errors.len();
        let mut body = DefinitionBody::default();
        let (mut has_id, mut has_source, mut has_attributes) = (false, false, false);
        for (i, (key, value)) in entries.iter().enumerate() {
            let path = format!("/{}", pointer_token(key));
            if last.get(key.as_str()) != Some(&i) {
                self.duplicate_field(&path, key);
                continue;
            }
            match key.as_str() {
                "attributes" => {
                    has_attributes = true;
                    body.attributes = self.attributes(&path, value);
                }
                "description" if !is_patch && matches!(value, Tree::Null) => {}
                _ if is_patch => {
                    let message = format!(
                        "field {} is not allowed in a PATCH (set attributes) body, which holds \"attributes\" only",
                        quote(key)
                    );
                    self.error("not_allowed_in_patch", &path, message);
                    if !BODY_FIELDS.contains(&key.as_str()) {
                        self.unknown_field(&path, key, &BODY_FIELDS, "the body");
                    }
                }
                "id" => {
                    has_id = true;
                    body.id = self.group_id(&path, value);
                }
                "description" => body.description = self.description(&path, value),
                "source_user_attribute" => {
                    has_source = true;
                    body.source_user_attribute = self.source_attribute(&path, value);
                }
                k if READ_ONLY_FIELDS.contains(&k) => {
                    let message = format!(
                        "field {} is set by the server; the value sent is ignored",
                        quote(key)
                    );
                    self.warning("read_only_field", &path, message);
                }
                _ => self.unknown_field(&path, key, &BODY_FIELDS, "the body"),
            }
        }

        let needs_id = matches!(self.mode, Mode::Create);
        for (needed, present, name, what) in [
            (needs_id, has_id, "id", "the group id, 3 to 32 characters"),
            (
                !is_patch,
                has_source,
                "source_user_attribute",
                "the user attribute whose shared value forms a group",
            ),
            (
                true,
                has_attributes,
                "attributes",
                "the list of { \"id\", \"type\" } group attributes",
            ),
        ] {
            if needed && !present {
                let message = format!("missing required field \"{name}\" ({what})");
                self.error("missing_field", "", message);
            }
        }
        (self.errors.len() == errors_before).then_some(body)
    }

    fn group_id(&mut self, path: &str, value: &Tree) -> Option<String> {
        let Tree::String(id) = value else {
            self.wrong_type(path, "group id must be a string", value);
            return None;
        };
        let mut ok = self.length(path, "group id", id, GROUP_ID_MIN_CHARS, GROUP_ID_MAX_CHARS);
        if let Mode::Update { group_id } = self.mode {
            if id != group_id {
                let message = format!(
                    "id {} differs from the group id in the path ({}); omit it or make them equal",
                    quote(id),
                    quote(group_id)
                );
                self.error("id_mismatch", path, message);
                ok = false;
            }
        }
        self.whitespace(path, "group id", id);
        if id.contains(':') {
            let message = format!(
                "group id {} contains \":\", which makes inherited names such as {} ambiguous",
                quote(id),
                quote(&format!("{id}:{}", self.example_attribute))
            );
            self.warning("ambiguous_id", path, message);
        }
        ok.then(|| id.clone())
    }

    fn description(&mut self, path: &str, value: &Tree) -> Option<String> {
        let Tree::String(text) = value else {
            self.wrong_type(path, "description must be a string", value);
            return None;
        };
        self.length(path, "description", text, 0, DESCRIPTION_MAX_CHARS)
            .then(|| text.clone())
    }

    fn source_attribute(&mut self, path: &str, value: &Tree) -> Option<String> {
        let label = "source_user_attribute";
        let Tree::String(source) = value else {
            self.wrong_type(path, "source_user_attribute must be a string", value);
            return None;
        };
        let ok = self.length(path, label, source, SOURCE_MIN_CHARS, SOURCE_MAX_CHARS);
        self.whitespace(path, label, source);
        ok.then(|| source.clone())
    }

    fn attributes(&mut self, path: &str, value: &Tree) -> Option<Vec<GroupAttribute>> {
        let Tree::Array(items) = value else {
            let what = "attributes must be an array of { \"id\", \"type\" } objects";
            self.wrong_type(path, what, value);
            return None;
        };
        let errors_before = self.errors.len();
        let mut out = Vec::with_capacity(items.len().min(MAX_ATTRIBUTES));
        // Attribute id -> index of its first occurrence.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (n, item) in items.iter().enumerate() {
            let item_path = format!("{path}/{n}");
            if let Some(attribute) = self.attribute(&item_path, n, item, &mut seen) {
                out.push(attribute);
            }
        }
        if items.is_empty() {
            let message = "attributes is empty: members of a group will inherit nothing".into();
            self.warning("no_attributes", path, message);
        }
        if items.len() > MAX_ATTRIBUTES {
            let message = format!(
                "a group definition can have at most {MAX_ATTRIBUTES} attributes; found {}",
                items.len()
            );
            self.error("too_many_attributes", path, message);
        }
        (self.errors.len() == errors_before).then_some(out)
    }

    fn attribute(
        &mut self,
        path: &str,
        index: usize,
        item: &Tree,
        seen: &mut HashMap<String, usize>,
    ) -> Option<GroupAttribute> {
        let Tree::Object(entries) = item else {
            let what = "each attribute must be an object { \"id\": string, \"type\": string }";
            self.wrong_type(path, what, item);
            return None;
        };
        let errors_before = self.errors.len();
        let last = last_indices(entries);
        let (mut id, mut aggregation) = (None, None);
        let (mut has_id, mut has_type) = (false, false);
        for (j, (key, value)) in entries.iter().enumerate() {
            let field_path = format!("{path}/{}", pointer_token(key));
            if last.get(key.as_str()) != Some(&j) {
                self.duplicate_field(&field_path, key);
                continue;
            }
            match key.as_str() {
                "id" => {
                    has_id = true;
                    id = self.attribute_id(&field_path, index, value, seen);
                }
                "type" => {
                    has_type = true;
                    aggregation = self.aggregation(&field_path, value);
                }
                _ => self.unknown_field(&field_path, key, &ATTRIBUTE_FIELDS, "an attribute"),
            }
        }
        for (has, name, what) in [
            (
                has_id,
                "id",
                "the user attribute to aggregate, 1 to 223 characters",
            ),
            (
                has_type,
                "type",
                "one of \"latest\", \"boolean_or\", \"sum\", \"average\"",
            ),
        ] {
            if !has {
                let message = format!("attribute is missing required field \"{name}\" ({what})");
                self.error("missing_field", path, message);
            }
        }
        if self.errors.len() != errors_before {
            return None;
        }
        Some(GroupAttribute {
            id: id?,
            aggregation: aggregation?,
        })
    }

    fn attribute_id(
        &mut self,
        path: &str,
        index: usize,
        value: &Tree,
        seen: &mut HashMap<String, usize>,
    ) -> Option<String> {
        let Tree::String(id) = value else {
            self.wrong_type(path, "attribute id must be a string", value);
            return None;
        };
        let label = "attribute id";
        let mut ok = self.length(
            path,
            label,
            id,
            ATTRIBUTE_ID_MIN_CHARS,
            ATTRIBUTE_ID_MAX_CHARS,
        );
        if let Some(first) = seen.get(id.as_str()) {
            let message = format!(
                "attribute id {} is already used by /attributes/{first}; attribute ids must be unique",
                quote(id)
            );
            self.error("duplicate_attribute", path, message);
            ok = false;
        } else {
            seen.insert(id.clone(), index);
        }
        self.whitespace(path, label, id);
        if id.contains(':') {
            let message = format!(
                "attribute id {} contains \":\", which makes inherited names such as {} ambiguous",
                quote(id),
                quote(&format!("{}:{id}", self.group_name))
            );
            self.warning("ambiguous_id", path, message);
        }
        if self.source.as_deref() == Some(id.as_str()) {
            let message = format!(
                "attribute {} is the grouping key (source_user_attribute) itself; every member already shares its value",
                quote(id)
            );
            self.warning("source_in_attributes", path, message);
        }
        ok.then(|| id.clone())
    }

    fn aggregation(&mut self, path: &str, value: &Tree) -> Option<Aggregation> {
        let Tree::String(name) = value else {
            let what = "attribute type must be a string: \"latest\", \"boolean_or\", \"sum\" or \"average\"";
            self.wrong_type(path, what, value);
            return None;
        };
        if let Some(aggregation) = Aggregation::parse(name) {
            return Some(aggregation);
        }
        let known: Vec<&str> = AGGREGATIONS.iter().map(|a| a.as_str()).collect();
        let wanted = loose(name);
        let hint = match known.iter().find(|k| loose(k) == wanted) {
            Some(k) => format!("; did you mean \"{k}\"? (types are exact, lower case)"),
            None => String::new(),
        };
        let message = format!(
            "attribute type must be one of {}; found {}{hint}",
            list(&known),
            quote(name)
        );
        self.error("unknown_aggregation", path, message);
        None
    }
}

fn check(tree: &Tree, mode: &Mode) -> (Validation, Option<DefinitionBody>) {
    let mut checker = Checker {
        mode,
        errors: Vec::new(),
        warnings: Vec::new(),
        group_name: String::new(),
        example_attribute: String::new(),
        source: None,
    };
    let body = checker.body(tree);
    let valid = checker.errors.is_empty();
    let validation = Validation {
        valid,
        errors: checker.errors,
        warnings: checker.warnings,
    };
    (validation, body.filter(|_| valid))
}

impl GroupDefinition {
    /// A definition that can drive a preview: valid in create mode.
    pub fn from_value(value: &serde_json::Value) -> Result<GroupDefinition, Vec<Issue>> {
        Self::from_read(read_definition(value, &Mode::Create)).map_err(|failed| failed.errors)
    }

    /// The same from JSON text; issues come in the order the body was written. On failure
    /// the whole validation, warnings included (a misspelt `atributes` explains the missing
    /// `attributes`), so nothing needs reading twice.
    pub fn from_text(text: &str) -> Result<GroupDefinition, Validation> {
        Self::from_read(read_definition_text(text, &Mode::Create))
    }

    fn from_read(
        (validation, body): (Validation, Option<DefinitionBody>),
    ) -> Result<GroupDefinition, Validation> {
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
            _ => Err(validation),
        }
    }
}

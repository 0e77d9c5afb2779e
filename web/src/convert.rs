//! Reading JavaScript arguments into engine types, and results back out.
//!
//! Object arguments (definitions, conditions, arrays of profiles) go through `JSON.stringify`
//! on the JavaScript side, so every input reaches the engine as JSON text by one code path.
//! Options are read key by key so a wrong type gets a message naming the key.

use group_identity::sql::{Columns, Dialect, SqlOptions};
use group_identity::{
    AudienceOptions, Condition, ConditionError, Format, GroupDefinition, Issue, Mode, Preview,
    PreviewOptions, PreviewSession, Validation,
};
use js_sys::{JsString, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::errors::Thrown;

/// Bytes copied into wasm memory at a time from a `Uint8Array`, so an input of any size
/// never needs a second whole copy inside wasm.
const BYTE_WINDOW: u32 = 8 << 20;
/// UTF-16 code units converted at a time from a string (at most three UTF-8 bytes each).
const STRING_WINDOW: u32 = 4 << 20;

/// A result as a JavaScript value: serialized once to JSON text and parsed by `JSON.parse`.
/// Measured against serde-wasm-bindgen (`json_compatible`) on a 100k-profile preview (51 MB
/// in, 27,540 groups, 6.7 MB of result): median 899 ms against 1023 ms for the whole call,
/// because V8's `JSON.parse` builds objects faster than one boundary call per field.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|err| Thrown::State(format!("could not encode the result: {err}")))?;
    js_sys::JSON::parse(&text)
}

/// A preview as a JavaScript value: everything but the groups as one JSON text, then the
/// groups built from columns ([`crate::groups`]), so no text grows with the input.
pub(crate) fn preview_to_js(mut preview: Preview) -> Result<JsValue, JsValue> {
    let groups = std::mem::take(&mut preview.groups);
    let result = to_js(&preview)?;
    Reflect::set(
        &result,
        &JsValue::from_str("groups"),
        &crate::groups::groups_to_js(&groups),
    )?;
    Ok(result)
}

/// `typeof value`, with `null` and arrays told apart, for messages.
fn describe(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "an array".to_owned()
    } else if let Some(text) = value.as_string() {
        let shown: String = text.chars().take(40).collect();
        format!("the string {shown:?}")
    } else if let Some(number) = value.as_f64() {
        format!("the number {number}")
    } else {
        String::from(value.js_typeof().unchecked_into::<JsString>())
    }
}

/// JSON text of any JSON-representable value, or `None` when `JSON.stringify` gives
/// `undefined` (undefined, functions, symbols).
fn stringify(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    json_text(js_sys::JSON::stringify(value).map(JsValue::from), what)
}

/// What a call of `JSON.stringify` gave: its text, or a `TypeError` saying why it threw.
fn json_text(written: Result<JsValue, JsValue>, what: &str) -> Result<Option<String>, JsValue> {
    let text = written.map_err(|err| {
        let reason = err
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "JSON.stringify failed".to_owned());
        Thrown::Type(format!("{what} cannot be converted to JSON: {reason}"))
    })?;
    Ok(text.as_string())
}

/// Why an argument gave no definition text.
pub(crate) enum Unreadable {
    /// Bytes that are not UTF-8: a failed validation whose one `invalid_json` error names
    /// the byte offset; data, as for any other invalid definition.
    NotUtf8(Validation),
    /// A value with no JSON (undefined, a function, a symbol): the `TypeError` message.
    NoJson(String),
    /// An error to throw as it is: `JSON.stringify` threw (a `TypeError`), or a
    /// `Uint8Array` is too long to read (a `RangeError`).
    Thrown(JsValue),
}

impl From<JsValue> for Unreadable {
    fn from(err: JsValue) -> Unreadable {
        Unreadable::Thrown(err)
    }
}

/// What the package's functions throw: bytes that are not UTF-8 are a `DefinitionError`.
impl From<Unreadable> for JsValue {
    fn from(unreadable: Unreadable) -> JsValue {
        match unreadable {
            Unreadable::NotUtf8(validation) => Thrown::Definition(validation).into(),
            Unreadable::NoJson(message) => Thrown::Type(message).into(),
            Unreadable::Thrown(err) => err,
        }
    }
}

/// An argument holding a definition (or a request body) as JSON text: a string as given, a
/// `Uint8Array` (a file read with `readFileSync`, a `Buffer`) decoded as UTF-8, an object
/// through `JSON.stringify`, which keeps the order its fields were written in (so issues
/// come in that order too, as they do for text). `what` names the argument in messages.
pub(crate) fn definition_text(value: &JsValue, what: &str) -> Result<String, Unreadable> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if let Some(bytes) = uint8_array(value) {
        return utf8_json(&readable_bytes(bytes)?, what).map_err(Unreadable::NotUtf8);
    }
    stringify(value, what)?.ok_or_else(|| {
        Unreadable::NoJson(format!(
            "{what} must be an object, a JSON string or its UTF-8 bytes (a Uint8Array), got {}",
            describe(value)
        ))
    })
}

/// The UTF-8 text of JSON given as bytes (a leading byte order mark dropped, as
/// `TextDecoder` drops it), copied out of JavaScript once; or a failed validation whose
/// `invalid_json` error names the byte offset where the bytes stop being UTF-8. `what`
/// names the argument in the message.
fn utf8_json(bytes: &Uint8Array, what: &str) -> Result<String, Validation> {
    // A BOM is valid UTF-8: decoded with the rest, so offsets count from the input's start.
    let mut text = String::from_utf8(bytes.to_vec()).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let message = match (err.utf8_error().error_len(), err.as_bytes().get(at)) {
            (Some(_), Some(byte)) => format!(
                "{what} is not UTF-8 text: the byte 0x{byte:02X} at byte offset {at} is not \
                 valid UTF-8 (JSON text must be UTF-8)"
            ),
            _ => format!(
                "{what} is not UTF-8 text: it ends inside a character at byte offset {at} \
                 (JSON text must be UTF-8)"
            ),
        };
        Validation {
            valid: false,
            errors: vec![Issue {
                code: "invalid_json".to_owned(),
                path: String::new(),
                message,
            }],
            warnings: Vec::new(),
        }
    })?;
    if text.starts_with('\u{FEFF}') {
        text.drain(..3);
    }
    Ok(text)
}

/// The validation of a definition argument in `mode`: bytes that are not UTF-8 are one
/// `invalid_json` error.
pub(crate) fn validate_definition(value: &JsValue, mode: &Mode) -> Result<Validation, JsValue> {
    match definition_text(value, "definition") {
        Ok(text) => Ok(group_identity::validate_definition_text(&text, mode)),
        Err(Unreadable::NotUtf8(validation)) => Ok(validation),
        Err(unreadable) => Err(unreadable.into()),
    }
}

/// A definition that can drive a preview (valid in create mode), or a `DefinitionError`
/// with every issue and the warnings, which explain many errors (a misspelt `atributes` is
/// an unknown field and a missing one).
pub(crate) fn group_definition(value: &JsValue) -> Result<GroupDefinition, JsValue> {
    let text = definition_text(value, "definition")?;
    GroupDefinition::from_text(&text).map_err(|failed| Thrown::Definition(failed).into())
}

/// An options argument: `undefined` and `null` mean defaults.
pub(crate) struct Options {
    object: Option<Object>,
    what: &'static str,
}

impl Options {
    pub(crate) fn read(value: &JsValue, what: &'static str) -> Result<Options, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Options { object: None, what });
        }
        if !value.is_object() || js_sys::Array::is_array(value) {
            return Err(
                Thrown::Type(format!("{what} must be an object, got {}", describe(value))).into(),
            );
        }
        Ok(Options {
            object: Some(value.clone().unchecked_into()),
            what,
        })
    }

    /// The value of `key`, `None` when absent, undefined or null.
    fn get(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        let Some(object) = &self.object else {
            return Ok(None);
        };
        let value = Reflect::get(object, &JsValue::from_str(key))?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    fn wrong(&self, key: &str, expected: &str, value: &JsValue) -> JsValue {
        Thrown::Type(format!(
            "{}.{key} must be {expected}, got {}",
            self.what,
            describe(value)
        ))
        .into()
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(value) => match value.as_string() {
                Some(text) => Ok(Some(text)),
                None => Err(self.wrong(key, "a string", &value)),
            },
        }
    }

    /// A string that must be given; `expected` says what it should be.
    fn required_string(&self, key: &str, expected: &str) -> Result<String, JsValue> {
        self.string(key)?.ok_or_else(|| self.missing(key, expected))
    }

    fn missing(&self, key: &str, expected: &str) -> JsValue {
        Thrown::Type(format!("{}.{key} is required: {expected}", self.what)).into()
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(value) => match value.as_bool() {
                Some(flag) => Ok(Some(flag)),
                None => Err(self.wrong(key, "a boolean", &value)),
            },
        }
    }

    /// A non-negative integer count; `Infinity` means no limit.
    pub(crate) fn count(&self, key: &str) -> Result<Option<usize>, JsValue> {
        match self.get(key)? {
            None => Ok(None),
            Some(value) => match value.as_f64() {
                Some(n) if n == f64::INFINITY => Ok(Some(usize::MAX)),
                Some(n) if n >= 0.0 && n.fract() == 0.0 => {
                    // Saturates on wasm32, where usize is 32 bits; no list can be that long.
                    Ok(Some(if n >= usize::MAX as f64 {
                        usize::MAX
                    } else {
                        n as usize
                    }))
                }
                _ => Err(self.wrong(key, "a non-negative integer", &value)),
            },
        }
    }

    /// How the profiles are read: `format` and `normalizeKeys`, which previews and
    /// audiences share.
    fn reading(&self) -> Result<PreviewOptions, JsValue> {
        let mut options = PreviewOptions::default();
        if let Some(format) = self.string("format")? {
            options.format = match format.as_str() {
                "auto" => Format::Auto,
                "json" => Format::Json,
                "ndjson" => Format::Ndjson,
                "csv" => Format::Csv,
                _ => {
                    return Err(self.wrong(
                        "format",
                        "one of \"auto\", \"json\", \"ndjson\", \"csv\"",
                        &JsValue::from_str(&format),
                    ))
                }
            };
        }
        if let Some(flag) = self.bool("normalizeKeys")? {
            options.normalize_keys = flag;
        }
        Ok(options)
    }

    pub(crate) fn preview(&self) -> Result<PreviewOptions, JsValue> {
        let mut options = self.reading()?;
        if let Some(n) = self.count("maxDiagnostics")? {
            options.max_diagnostics = n;
        }
        if let Some(n) = self.count("maxListed")? {
            options.max_listed = n;
        }
        Ok(options)
    }

    pub(crate) fn audience(&self) -> Result<AudienceOptions, JsValue> {
        // An audience keeps no diagnostics nor lists: `maxDiagnostics` and `maxListed` are
        // unknown keys here, ignored like any other.
        let mut options = AudienceOptions {
            preview: self.reading()?,
            ..AudienceOptions::default()
        };
        if let Some(n) = self.count("limit")? {
            options.limit = n;
        }
        Ok(options)
    }

    /// `toSql` options: `{ dialect, table, columns: { mpid, attributes, order, ... } }`.
    /// Names are checked by the compiler itself (empty or NUL names are `SqlError`s).
    pub(crate) fn sql(&self) -> Result<SqlOptions, JsValue> {
        const DIALECTS: &str = "one of \"duckdb\", \"snowflake\", \"bigquery\", \"spark\"";
        let dialect = self.required_string("dialect", DIALECTS)?;
        let dialect = match dialect.as_str() {
            "duckdb" => Dialect::DuckDb,
            "snowflake" => Dialect::Snowflake,
            "bigquery" => Dialect::BigQuery,
            "spark" => Dialect::Spark,
            _ => return Err(self.wrong("dialect", DIALECTS, &JsValue::from_str(&dialect))),
        };
        let table = self.required_string(
            "table",
            "a table name (`table`, `schema.table` or `db.schema.table`)",
        )?;
        let columns = self.get("columns")?.ok_or_else(|| {
            self.missing(
                "columns",
                "an object { mpid, attributes, order, attributeTimestamps?, updatedAt?, lastStoredTimestampMs? }",
            )
        })?;
        let columns = Options::read(&columns, "options.columns")?;
        let column = |key: &str| columns.required_string(key, "a column name");
        Ok(SqlOptions {
            dialect,
            table,
            columns: Columns {
                mpid: column("mpid")?,
                attributes: column("attributes")?,
                attribute_timestamps: columns.string("attributeTimestamps")?,
                updated_at: columns.string("updatedAt")?,
                last_stored_timestamp_ms: columns.string("lastStoredTimestampMs")?,
                order: column("order")?,
            },
        })
    }

    pub(crate) fn mode(&self) -> Result<Mode, JsValue> {
        let group_id = self.string("groupId")?;
        match self.string("mode")?.as_deref() {
            None | Some("create") => Ok(Mode::Create),
            Some("patch") => Ok(Mode::Patch),
            Some("update") => match group_id {
                Some(group_id) => Ok(Mode::Update { group_id }),
                None => Err(Thrown::Type(format!(
                    "{}.groupId is required when mode is \"update\" (the id in the request path)",
                    self.what
                ))
                .into()),
            },
            Some(other) => Err(self.wrong(
                "mode",
                "one of \"create\", \"update\", \"patch\"",
                &JsValue::from_str(other),
            )),
        }
    }
}

/// A `profiles` argument as the engine will read it.
pub(crate) enum Profiles {
    Text(JsString),
    Bytes(Uint8Array),
    /// Profile objects, read as `JSON.stringify` writes the array (BigInts as their
    /// digits), a slice of elements at a time.
    Objects(js_sys::Array),
}

#[wasm_bindgen(inline_js = r#"
// JSON.stringify, but a BigInt (which it refuses) is written as its exact digits: each is
// first replaced by a string no data holds (a NUL and a random tag before the digits),
// then that string's quotes are taken away.
export function profilesJson(value) {
  let tag = null;
  const text = JSON.stringify(value, (_, v) => {
    if (typeof v !== "bigint") return v;
    tag ??= `\u0000${Math.random().toString(36).slice(2)}:`;
    return tag + v.toString();
  });
  if (tag === null || text === undefined) return text;
  const opened = JSON.stringify(tag).slice(0, -1);
  return text
    .split(opened)
    .map((part, i) => (i === 0 ? part : part.replace('"', "")))
    .join("");
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = profilesJson)]
    fn profiles_json(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// Elements of an array of profile objects written to JSON at a time: a few MB of text,
/// so that no string nears the engine's string limit however long the array is.
const ELEMENTS_AT_A_TIME: u32 = 4096;

/// A `Uint8Array`, also one made in another realm (an iframe, a `vm` context, jsdom),
/// which `instanceof` does not recognise.
/// A `Uint8Array` the package can read: its `length` is read as a `u32`, which a
/// 4 GiB array (Node allows them) would wrap, silently reading another length.
pub(crate) fn readable_bytes(bytes: Uint8Array) -> Result<Uint8Array, JsValue> {
    let length = Reflect::get(&bytes, &"length".into())
        .ok()
        .and_then(|l| l.as_f64())
        .unwrap_or(0.0);
    if length > f64::from(u32::MAX) {
        return Err(Thrown::Range(format!(
            "a Uint8Array of {length} bytes is more than one call reads (at most {} bytes): push it to a PreviewSession in smaller pieces (subarray)",
            u32::MAX
        ))
        .into());
    }
    Ok(bytes)
}

pub(crate) fn uint8_array(value: &JsValue) -> Option<Uint8Array> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Some(bytes.clone());
    }
    let tagged = js_sys::ArrayBuffer::is_view(value)
        && Reflect::get(value, &js_sys::Symbol::to_string_tag())
            .ok()
            .and_then(|tag| tag.as_string())
            .is_some_and(|tag| tag == "Uint8Array");
    tagged.then(|| value.clone().unchecked_into())
}

/// Hands on the array's JSON in pieces, a slice of elements at a time: together the
/// same text as one `JSON.stringify` of the whole array, never held whole.
fn object_slices(array: &js_sys::Array, mut each: impl FnMut(&[u8])) -> Result<(), JsValue> {
    each(b"[");
    let len = array.length();
    let mut start = 0;
    while start < len {
        let end = start.saturating_add(ELEMENTS_AT_A_TIME).min(len);
        let json = objects_json(&array.slice(start, end))?;
        // The elements, without the slice's own brackets.
        let elements = json
            .strip_prefix('[')
            .and_then(|j| j.strip_suffix(']'))
            .unwrap_or_default();
        if start > 0 {
            each(b",");
        }
        each(elements.as_bytes());
        start = end;
    }
    each(b"]");
    Ok(())
}

/// The JSON text of profile objects (an array, or a slice of one).
fn objects_json(value: &JsValue) -> Result<String, JsValue> {
    let text = json_text(profiles_json(value), "profiles")?.unwrap_or_else(|| "[]".to_owned());
    Ok(mend_lone_surrogates(text))
}

/// `JSON.stringify` writes a lone UTF-16 surrogate (half an emoji, cut by a `slice`) as an
/// escape such as `\ud800`, which no JSON reader takes as text: the engine would drop the
/// whole record. A string of profiles gets U+FFFD for it instead (see [`Feeder`]), so the
/// same profile given as an object does too: each escape of a surrogate that is not half
/// of a pair becomes `\ufffd`, in keys and values alike. Text without `\ud` (almost all)
/// is returned as it is, unscanned.
pub(crate) fn mend_lone_surrogates(text: String) -> String {
    if !text.contains("\\ud") && !text.contains("\\uD") {
        return text;
    }
    /// The code unit of a `\uXXXX` escape starting at `at`, if there is one.
    fn escape_at(bytes: &[u8], at: usize) -> Option<u16> {
        let [b'\\', b'u', digits @ ..] = bytes.get(at..at + 6)? else {
            return None;
        };
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // Copied through `copied` (a byte offset at a character boundary: only ASCII is
    // matched).
    let mut copied = 0;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'\\' {
            i += 1;
            continue;
        }
        // An escape: `\\` and the like are two bytes, so an escaped backslash followed by
        // `ud800` is never taken for an escape of its own.
        let Some(unit) = escape_at(bytes, i) else {
            i += 2;
            continue;
        };
        let paired = match unit {
            0xD800..=0xDBFF => {
                matches!(escape_at(bytes, i + 6), Some(low) if (0xDC00..=0xDFFF).contains(&low))
            }
            0xDC00..=0xDFFF => false,
            _ => {
                i += 6;
                continue;
            }
        };
        if paired {
            i += 12;
        } else {
            out.push_str(text.get(copied..i).unwrap_or_default());
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        }
    }
    if copied == 0 {
        return text;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// Reads `profiles`: a string, a `Uint8Array`, or an array of objects (sent as its JSON, so
/// the format becomes `json`).
pub(crate) fn profiles(value: &JsValue, options: &mut PreviewOptions) -> Result<Profiles, JsValue> {
    if value.is_string() {
        return Ok(Profiles::Text(value.clone().unchecked_into()));
    }
    if let Some(bytes) = uint8_array(value) {
        return Ok(Profiles::Bytes(readable_bytes(bytes)?));
    }
    if js_sys::Array::is_array(value) {
        options.format = Format::Json;
        // Lines of text written from values say nothing: a record's place in the array
        // does.
        options.element_positions = true;
        return Ok(Profiles::Objects(value.clone().unchecked_into()));
    }
    Err(Thrown::Type(format!(
        "profiles must be a string, a Uint8Array or an array of profile objects, got {}",
        describe(value)
    ))
    .into())
}

/// A chunk for `PreviewSession.push`: a string or a `Uint8Array`.
pub(crate) fn chunk(value: &JsValue) -> Result<Profiles, JsValue> {
    if value.is_string() {
        return Ok(Profiles::Text(value.clone().unchecked_into()));
    }
    if let Some(bytes) = uint8_array(value) {
        return Ok(Profiles::Bytes(readable_bytes(bytes)?));
    }
    Err(Thrown::Type(format!(
        "chunk must be a string or a Uint8Array, got {}",
        describe(value)
    ))
    .into())
}

/// What a [`Feeder`] feeds: a session that takes the input's bytes in chunks.
pub trait Feed {
    fn feed(&mut self, bytes: &[u8]);
}

impl Feed for PreviewSession {
    fn feed(&mut self, bytes: &[u8]) {
        self.push(bytes);
    }
}

impl Feed for group_identity::AudienceSession {
    fn feed(&mut self, bytes: &[u8]) {
        self.push(bytes);
    }
}

/// Feeds input to a session in bounded windows, reusing one buffer for bytes.
pub struct Feeder {
    buffer: Vec<u8>,
    byte_window: u32,
    unit_window: u32,
    /// A high surrogate that ended the last string chunk: its low half may open the next
    /// one (a JavaScript string cut between the halves of an emoji).
    high: Option<u16>,
}

/// What a lone surrogate becomes in UTF-8, as JavaScript's own encoders make it.
const REPLACEMENT: &str = "\u{FFFD}";

fn is_high(unit: f64) -> bool {
    (f64::from(0xD800)..f64::from(0xDC00)).contains(&unit)
}

fn is_low(unit: f64) -> bool {
    (f64::from(0xDC00)..f64::from(0xE000)).contains(&unit)
}

impl Default for Feeder {
    fn default() -> Self {
        Feeder::with_windows(BYTE_WINDOW, STRING_WINDOW)
    }
}

impl Feeder {
    /// Windows of `bytes` bytes and `units` UTF-16 code units (each at least 1); the package
    /// uses the defaults, tests use tiny ones to reach every window boundary.
    pub fn with_windows(bytes: u32, units: u32) -> Feeder {
        Feeder {
            buffer: Vec::new(),
            byte_window: bytes.max(1),
            // Two units so a window can always hold a whole surrogate pair.
            unit_window: units.max(2),
            high: None,
        }
    }

    /// Feeds a whole input, start to end, in windows.
    pub(crate) fn feed_whole(session: &mut impl Feed, input: &Profiles) -> Result<(), JsValue> {
        let mut feeder = Feeder::default();
        feeder.push(session, input)?;
        feeder.finish(session);
        Ok(())
    }

    /// Ends the input: a high surrogate still held had no low half. Returns the bytes
    /// given to the engine.
    pub fn finish(&mut self, session: &mut impl Feed) -> u64 {
        self.lone_high(session)
    }

    /// Gives the engine a held high surrogate as what it is alone.
    fn lone_high(&mut self, session: &mut impl Feed) -> u64 {
        match self.high.take() {
            Some(_) => {
                session.feed(REPLACEMENT.as_bytes());
                REPLACEMENT.len() as u64
            }
            None => 0,
        }
    }

    /// Pushes a `PreviewSession.push` chunk (a string or a `Uint8Array`); returns the
    /// number of UTF-8 bytes given to the engine.
    pub fn push_chunk(&mut self, session: &mut impl Feed, chunk: &JsValue) -> Result<u64, JsValue> {
        let input = self::chunk(chunk)?;
        self.push(session, &input)
    }

    pub(crate) fn push(
        &mut self,
        session: &mut impl Feed,
        input: &Profiles,
    ) -> Result<u64, JsValue> {
        Ok(match input {
            Profiles::Text(text) => self.push_text(session, text),
            Profiles::Bytes(bytes) => self.push_bytes(session, bytes),
            Profiles::Objects(array) => self.push_objects(session, array)?,
        })
    }

    /// The array's JSON, a slice of elements at a time (see [`object_slices`]).
    fn push_objects(
        &mut self,
        session: &mut impl Feed,
        array: &js_sys::Array,
    ) -> Result<u64, JsValue> {
        let mut pushed = self.lone_high(session);
        object_slices(array, |text| {
            session.feed(text);
            pushed += text.len() as u64;
        })?;
        Ok(pushed)
    }

    fn push_bytes(&mut self, session: &mut impl Feed, bytes: &Uint8Array) -> u64 {
        let len = bytes.length();
        if len == 0 {
            // Nothing: a high surrogate held from a string chunk still waits for its half.
            return 0;
        }
        let held = self.lone_high(session);
        let mut start = 0;
        while start < len {
            let end = start.saturating_add(self.byte_window).min(len);
            let n = (end - start) as usize;
            if self.buffer.len() < n {
                self.buffer.resize(n, 0);
            }
            if let Some(window) = self.buffer.get_mut(..n) {
                bytes.subarray(start, end).copy_to(window);
                session.feed(window);
            }
            start = end;
        }
        held + u64::from(len)
    }

    fn push_text(&mut self, session: &mut impl Feed, text: &JsString) -> u64 {
        let mut len = text.length();
        if len == 0 {
            return 0;
        }
        let mut start = 0;
        let mut pushed = 0u64;
        if let Some(high) = self.high {
            let first = text.char_code_at(0);
            if is_low(first) {
                self.high = None;
                let pair = char::decode_utf16([high, first as u16]).next();
                let mut utf8 = [0; 4];
                let pair = match pair {
                    Some(Ok(c)) => &*c.encode_utf8(&mut utf8),
                    _ => REPLACEMENT,
                };
                session.feed(pair.as_bytes());
                pushed += pair.len() as u64;
                start = 1;
            } else {
                pushed += self.lone_high(session);
            }
        }
        // Hold back a high surrogate that ends the chunk: the next may open with its pair.
        let last = text.char_code_at(len - 1);
        if len > start && is_high(last) {
            self.high = Some(last as u16);
            len -= 1;
        }
        while start < len {
            let mut end = start.saturating_add(self.unit_window).min(len);
            // Never split a surrogate pair: end the window before a high surrogate.
            if end < len && end - start > 1 && is_high(text.char_code_at(end - 1)) {
                end -= 1;
            }
            let window = String::from(text.slice(start, end));
            session.feed(window.as_bytes());
            pushed += window.len() as u64;
            start = end;
        }
        pushed
    }
}

/// Audience conditions: an array of `{ attribute, operator, value }`. A condition that cannot
/// be read is a `ConditionError` naming its index.
pub(crate) fn conditions(value: &JsValue) -> Result<Vec<Condition>, JsValue> {
    if !js_sys::Array::is_array(value) {
        return Err(Thrown::Type(format!(
            "conditions must be an array of {{ attribute, operator, value }}, got {}",
            describe(value)
        ))
        .into());
    }
    // JSON.stringify writes NaN and Infinity as null and drops a function: the condition
    // would then seem to lack its value. Say what was given instead.
    let array: &js_sys::Array = value.unchecked_ref();
    for (index, item) in array.iter().enumerate() {
        let Ok(given) = Reflect::get(&item, &JsValue::from_str("value")) else {
            continue;
        };
        let unfit = match given.as_f64() {
            Some(number) => !number.is_finite(),
            None => given.is_bigint() || given.is_function() || given.is_symbol(),
        };
        if item.is_object() && unfit {
            return Err(condition_error(
                index,
                format!(
                    "value must be JSON data (a finite number, a string, a boolean, an array \
                     or an object), got {}",
                    describe(&given)
                ),
            ));
        }
    }
    let text = stringify(value, "conditions")?.unwrap_or_else(|| "[]".to_owned());
    let items: Vec<serde_json::Value> = serde_json::from_str(&text)
        .map_err(|err| Thrown::Type(format!("conditions cannot be read as JSON: {err}")))?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            if !item.is_object() {
                return Err(condition_error(
                    index,
                    "a condition must be an object { attribute, operator, value }".to_owned(),
                ));
            }
            serde_json::from_value::<Condition>(item)
                .map_err(|err| condition_error(index, err.to_string()))
        })
        .collect()
}

fn condition_error(index: usize, message: String) -> JsValue {
    Thrown::Condition(ConditionError { index, message }).into()
}

#[cfg(test)]
mod tests {
    use super::mend_lone_surrogates;

    fn mend(text: &str) -> String {
        mend_lone_surrogates(text.to_owned())
    }

    #[test]
    fn lone_surrogate_escapes_become_replacement_characters() {
        // Keys and values, high and low halves, upper and lower case hex.
        assert_eq!(
            mend(r#"[{"a\ud800":"x\uDC00y","b":"\udbff"}]"#),
            r#"[{"a\ufffd":"x\ufffdy","b":"\ufffd"}]"#
        );
        // A high half followed by another high half, then a pair.
        assert_eq!(mend(r#""\ud83c\ud83c\udfe0""#), r#""\ufffd\ud83c\udfe0""#);
        // A low half before a high one is no pair.
        assert_eq!(mend(r#""\udfe0\ud83c""#), r#""\ufffd\ufffd""#);
    }

    #[test]
    fn pairs_escaped_backslashes_and_other_escapes_are_kept() {
        for kept in [
            r#"[{"mpid":"1","e":"\ud83c\udfe0"}]"#,
            r#""\\ud800""#,
            r#""\\\\ud800 \"\ud7ff\ue000 \u0041""#,
            r#""Köln 🌍 \n\t""#,
            "",
        ] {
            assert_eq!(mend(kept), kept);
        }
        // An escaped backslash, then a real lone escape.
        assert_eq!(mend(r#""\\\ud800""#), r#""\\\ufffd""#);
        // Cut short at the end: nothing to mend, nothing read past the end.
        assert_eq!(mend(r#""\ud8"#), r#""\ud8"#);
    }
}

//! Profile input: formats, detection, and reading records in chunks (SPEC section 3).
//!
//! Readers split the input into records as bytes arrive ([`reader`]); each record is read
//! by [`record`] into borrowed slots for just the attributes a preview needs, so the hot
//! path allocates nothing per profile.

mod csv;
mod json_array;
mod names;
pub(crate) mod ndjson;
pub(crate) mod reader;
pub(crate) mod record;
mod scan;

#[doc(hidden)]
pub use scan::check_against_serde;

use serde::{Deserialize, Serialize};

use crate::coerce::Slot;
use crate::preview::{Diagnostic, Level};
use record::{Scratch, Wanted};

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

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// A profile id: signed 64-bit integers exactly, or any other non-empty string. In JSON
/// it is always a string (`"-5"`), so 64-bit ids survive JavaScript. A string id is
/// shared, not copied, by the set of ids seen and the groups that list it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mpid {
    Int(i64),
    Str(std::sync::Arc<str>),
}

impl Mpid {
    /// Which kind it is; reading it loads the id (for warming caches). Means nothing else.
    pub(crate) fn tag(&self) -> usize {
        match self {
            Mpid::Int(_) => 1,
            Mpid::Str(_) => 2,
        }
    }

    /// The mpid as output carries it: always a string.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        self.push_text(&mut text);
        text
    }

    /// Appends the id's text (as [`Mpid::to_text`] gives it), with no allocation of its
    /// own and none of the formatting machinery.
    pub fn push_text(&self, out: &mut String) {
        match self {
            Mpid::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Mpid::Str(s) => out.push_str(s),
        }
    }
}

impl Mpid {
    /// Reads an mpid's text: the canonical decimal text of an i64 is that integer.
    pub fn from_text(text: &str) -> Mpid {
        canonical_int(text)
            .map(Mpid::Int)
            .unwrap_or_else(|| Mpid::Str(text.into()))
    }
}

impl PartialEq<str> for Mpid {
    fn eq(&self, other: &str) -> bool {
        match self {
            Mpid::Int(i) => itoa::Buffer::new().format(*i) == other,
            Mpid::Str(s) => &**s == other,
        }
    }
}

impl PartialEq<&str> for Mpid {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl Serialize for Mpid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Mpid::Int(i) => serializer.serialize_str(itoa::Buffer::new().format(*i)),
            Mpid::Str(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for Mpid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Mpid::from_text(&text))
    }
}

impl std::fmt::Display for Mpid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mpid::Int(i) => write!(f, "{i}"),
            Mpid::Str(s) => f.write_str(s),
        }
    }
}

/// One profile with all of its own user attributes and the times `latest` uses, for
/// tools that need whole records (the emulator's profile store, enriched downloads).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FullProfile {
    pub mpid: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// `user_attribute_timestamps` as found (attribute key to time; nulls dropped).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attribute_timestamps: serde_json::Map<String, serde_json::Value>,
    /// The profile's `updated_at` (CSV: that column's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<serde_json::Value>,
    /// The profile's `last_stored_timestamp_ms` (CSV: that column's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stored_timestamp_ms: Option<serde_json::Value>,
}

/// Reads every profile with all of its attributes (null values dropped). Records are
/// skipped, and reported, as a preview skips them, except that a CSV cell that is not
/// UTF-8 only loses that cell (warning `invalid_utf8`): a preview skips its row only when
/// it uses the column, and here every column is used.
pub fn read_all(input: &[u8], format: Format) -> (Vec<FullProfile>, Vec<Diagnostic>) {
    let mut stream = ProfileStream::new(format, usize::MAX);
    let mut profiles = stream.push(input);
    let end = stream.finish();
    profiles.extend(end.profiles);
    (profiles, end.diagnostics)
}

/// For benchmarks: reads every record of `input` as a preview of `definition` reads it
/// (the same fields, the same checks) and keeps nothing; the number of records read. It
/// tells the reading's share of a preview's time from the grouping's.
#[doc(hidden)]
pub fn read_only(input: &[u8], definition: &crate::GroupDefinition) -> u64 {
    struct Count(u64);
    impl reader::RecordSink for Count {
        fn record(&mut self, _: &Scratch<'_>, _: u64) {
            self.0 += 1;
        }
        fn reject(&mut self, _: Diagnostic) {}
    }
    let wanted = crate::engine::Engine::wanted(definition);
    let mut reader = reader::Reader::new(Format::Auto);
    let mut count = Count(0);
    reader.push(input, &wanted, &mut count);
    reader.finish(&wanted, &mut count);
    count.0
}

/// [`read_all`] over an input that arrives in chunks: each push gives the profiles whose
/// records it completed, so only one unfinished record (and the mpids seen, to find
/// repeated ones) is held between chunks.
pub struct ProfileStream {
    reader: reader::Reader,
    wanted: Wanted,
    sink: Collect,
}

impl ProfileStream {
    /// Keeps the first `max_diagnostics` findings (the rest are only counted).
    pub fn new(format: Format, max_diagnostics: usize) -> Self {
        ProfileStream {
            reader: reader::Reader::new(format),
            wanted: Wanted::all(),
            sink: Collect {
                gate: MpidGate::default(),
                diagnostics: Diagnostics::new(max_diagnostics),
                profiles: Vec::new(),
            },
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Vec<FullProfile> {
        self.reader.push(chunk, &self.wanted, &mut self.sink);
        std::mem::take(&mut self.sink.profiles)
    }

    /// The profiles of the last record (if it had no line break after it), and the
    /// findings of the whole input.
    pub fn finish(mut self) -> StreamEnd {
        self.reader.finish(&self.wanted, &mut self.sink);
        StreamEnd {
            profiles: self.sink.profiles,
            diagnostics: self.sink.diagnostics.list,
            diagnostics_suppressed: self.sink.diagnostics.suppressed,
        }
    }
}

/// What [`ProfileStream::finish`] gives.
#[derive(Debug)]
pub struct StreamEnd {
    /// The last record's profiles, when no line break ended it.
    pub profiles: Vec<FullProfile>,
    /// The first `max_diagnostics` findings of the whole input, in input order.
    pub diagnostics: Vec<Diagnostic>,
    /// How many findings there were past those.
    pub diagnostics_suppressed: u64,
}

struct Collect {
    gate: MpidGate,
    diagnostics: Diagnostics,
    profiles: Vec<FullProfile>,
}

impl reader::RecordSink for Collect {
    fn record(&mut self, rec: &Scratch<'_>, line: u64) {
        let Some(mpid) = self.gate.admit(rec, line, &mut self.diagnostics) else {
            return;
        };
        if rec.times_not_an_object {
            self.diagnostics.push(times_not_an_object(&mpid, line));
        }
        let attributes = rec
            .all_attributes()
            .filter(|(_, slot)| !slot.is_null())
            .map(|(name, slot)| (name.to_string(), slot.to_value()))
            .collect();
        let attribute_timestamps = rec
            .all_times()
            .filter(|(_, slot)| !slot.is_null())
            .map(|(name, slot)| (name.to_string(), slot.to_value()))
            .collect();
        // Null is the same as absent, for times too.
        let time = |slot: Option<&Slot<'_>>| slot.filter(|s| !s.is_null()).map(Slot::to_value);
        self.profiles.push(FullProfile {
            mpid: mpid.to_string(),
            attributes,
            attribute_timestamps,
            updated_at: time(rec.updated_at.as_ref()),
            last_stored_timestamp_ms: time(rec.last_stored.as_ref()),
        });
    }
    fn reject(&mut self, diagnostic: Diagnostic) {
        self.gate.skipped += 1;
        self.diagnostics.push(diagnostic);
    }
}

/// Diagnostics with a cap: past `max`, only counted.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub list: Vec<Diagnostic>,
    pub max: usize,
    pub suppressed: u64,
}

impl Diagnostics {
    pub fn new(max: usize) -> Self {
        Diagnostics {
            list: Vec::new(),
            max,
            suppressed: 0,
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        if self.list.len() < self.max {
            self.list.push(d);
        } else {
            self.suppressed += 1;
        }
    }

    /// Builds the diagnostic only when it will be kept: messages cost on the hot path.
    pub fn push_with(&mut self, make: impl FnOnce() -> Diagnostic) {
        if self.list.len() < self.max {
            self.list.push(make());
        } else {
            self.suppressed += 1;
        }
    }

    /// Cuts findings kept aside (about groups, made at the end) to the room the cap
    /// leaves, counting the rest as suppressed.
    pub fn cap(&mut self, aside: &mut Vec<Diagnostic>) {
        let room = self.max.saturating_sub(self.list.len());
        if aside.len() > room {
            self.suppressed += (aside.len() - room) as u64;
            aside.truncate(room);
        }
    }
}

/// The longest record (an NDJSON line, a CSV row, a JSON array element) read, in input
/// bytes: past it the record is
/// skipped unread, so that memory stays bounded when a line break never comes or a
/// quote never closes, whatever the input's size.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The error for a record past [`MAX_RECORD_BYTES`].
pub(crate) fn too_large(line: u64) -> Diagnostic {
    diagnostic(
        Level::Error,
        "record_too_large",
        format!(
            "the record on line {line} is longer than {} MiB; it was skipped",
            MAX_RECORD_BYTES >> 20
        ),
        line,
    )
}

pub(crate) fn diagnostic(level: Level, code: &str, message: String, line: u64) -> Diagnostic {
    Diagnostic {
        level,
        code: code.to_string(),
        message,
        line: Some(line),
        column: None,
        mpid: None,
        attribute: None,
    }
}

/// The warning for a `user_attribute_timestamps` that is neither an object nor null:
/// the profile is still used, without per-attribute times.
pub(crate) fn times_not_an_object(mpid: &Mpid, line: u64) -> Diagnostic {
    Diagnostic {
        mpid: Some(mpid.to_string()),
        attribute: Some("user_attribute_timestamps".into()),
        ..diagnostic(
            Level::Warning,
            "invalid_timestamp",
            "user_attribute_timestamps is not an object of attribute times; the profile's per-attribute times were treated as absent".into(),
            line,
        )
    }
}

/// Admits a record's mpid: present, well-formed, and not seen before (the first record
/// with an mpid stands). Integer mpids cost 8 bytes of memory each; other strings are kept
/// whole so that no two different ids can collide.
#[derive(Debug, Default)]
pub(crate) struct MpidGate {
    ints: crate::int_set::IntSet,
    strs: crate::seed::HashSet<std::sync::Arc<str>>,
    pub skipped: u64,
}

impl MpidGate {
    /// Where `admit` will look up this record's mpid, when it is an integer.
    pub fn locate(&self, rec: &Scratch<'_>) -> Option<usize> {
        use crate::coerce::Val;
        match rec.mpid.as_ref().map(|s| &s.val) {
            Some(Val::Int(i)) => Some(self.ints.locate(*i)),
            Some(Val::UInt(u)) => Some(self.ints.locate(*u as i64)),
            _ => None,
        }
    }

    /// Reads the place `locate` gave, so that `admit` finds it in cache. The result means
    /// nothing; pass it to `std::hint::black_box`.
    pub fn warm(&self, at: usize) -> u64 {
        self.ints.warm(at)
    }

    pub fn admit(
        &mut self,
        rec: &Scratch<'_>,
        line: u64,
        diagnostics: &mut Diagnostics,
    ) -> Option<Mpid> {
        use crate::coerce::Val;
        let mpid = match rec.mpid.as_ref().map(|s| &s.val) {
            None | Some(Val::Null) => None,
            Some(Val::Str(s)) if s.is_empty() => None,
            Some(Val::Str(s)) => Some(Ok(Mpid::from_text(s))),
            Some(Val::Num(text)) => Some(
                text.parse::<i64>()
                    .map(Mpid::Int)
                    .map_err(|_| "a number outside the signed 64-bit range, or not an integer"),
            ),
            Some(Val::Int(i)) => Some(Ok(Mpid::Int(*i))),
            Some(Val::UInt(u)) => Some(
                i64::try_from(*u)
                    .map(Mpid::Int)
                    .map_err(|_| "a number above the signed 64-bit range"),
            ),
            Some(Val::Float(_)) => Some(Err("a number that is not a signed 64-bit integer")),
            Some(Val::Bool(_)) => Some(Err("a boolean")),
            Some(Val::Array(_)) => Some(Err("an array")),
            Some(Val::Object(_)) => Some(Err("an object")),
            Some(Val::Json(v)) if v.is_array() => Some(Err("an array")),
            Some(Val::Json(_)) => Some(Err("an object")),
        };
        let mpid = match mpid {
            None => {
                self.skipped += 1;
                diagnostics.push_with(|| {
                    diagnostic(
                        Level::Error,
                        "missing_mpid",
                        "record has no mpid; it was skipped".into(),
                        line,
                    )
                });
                return None;
            }
            Some(Err(found)) => {
                self.skipped += 1;
                diagnostics.push_with(|| {
                    diagnostic(
                        Level::Error,
                        "invalid_mpid",
                        format!(
                            "mpid must be a signed 64-bit integer or a string; found {found}; the record was skipped"
                        ),
                        line,
                    )
                });
                return None;
            }
            Some(Ok(mpid)) => mpid,
        };
        let fresh = match &mpid {
            Mpid::Int(i) => self.ints.insert(*i),
            Mpid::Str(s) => self.strs.insert(s.clone()),
        };
        if fresh {
            Some(mpid)
        } else {
            self.skipped += 1;
            diagnostics.push_with(|| Diagnostic {
                mpid: Some(mpid.to_string()),
                ..diagnostic(
                    Level::Warning,
                    "duplicate_mpid",
                    format!(
                        "mpid {} appeared before; this record was skipped (the first one stands)",
                        // A string mpid quoted, so that one of spaces still shows.
                        match &mpid {
                            Mpid::Int(i) => i.to_string(),
                            Mpid::Str(s) => format!("{:?}", &**s),
                        }
                    ),
                    line,
                )
            });
            None
        }
    }
}

/// A string that is exactly an i64's canonical decimal text ("-5", not "+5" or "007").
fn canonical_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || s == "-0"
    {
        return None;
    }
    s.parse().ok()
}

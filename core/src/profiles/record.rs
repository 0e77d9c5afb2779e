//! Reading one record: only the fields a preview needs are materialized, borrowed from
//! the input; everything else is skipped by serde without allocation.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::names::{NameTable, Print};
use crate::coerce::{Slot, Val};

/// The attribute names a pass needs, by index. Index 0 is the grouping key.
#[derive(Clone, Debug)]
pub(crate) struct Wanted {
    names: Vec<Box<str>>,
    /// What a top-level key can mean: the keys of [`TOP`], then the names.
    top_names: NameTable<Kind>,
    /// What a key inside `user_attributes` or `user_attribute_timestamps` can mean.
    inner_names: NameTable<Kind>,
    /// Every case variant of the source has the source's length in bytes: an ASCII source
    /// without `k`. (The Kelvin sign, U+212A, is the one non-ASCII character that
    /// lowercases to ASCII: to `k`.) See [`Wanted::variants_keep_length`].
    variants_keep_length: bool,
    /// The same for ASCII keys only: a source without the Kelvin sign.
    ascii_variants_keep_length: bool,
    /// Bit `n % 64` set when some name (or a case variant of the source) is `n` bytes
    /// long: most keys of a record are rejected by length alone.
    lengths: u64,
    /// Every attribute is wanted (whole-profile reads).
    all: bool,
    /// Indices whose per-attribute time is read (`latest` attributes); none means the
    /// profile's own times are not read either.
    timed: Vec<usize>,
    /// Every wanted value keeps its JSON text, not only the source's (audiences compare
    /// a number by its text).
    texts: bool,
}

impl Wanted {
    /// `names[0]` is the source attribute; duplicates are merged by [`Wanted::index_of`].
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let mut list: Vec<Box<str>> = Vec::new();
        for name in names {
            if !list.iter().any(|n| **n == *name) {
                list.push(name.into());
            }
        }
        let lengths = list.iter().fold(0u64, |m, n| m | 1u64 << (n.len() % 64));
        let source = list.first().map_or("", |n| &**n);
        Wanted {
            top_names: names_at(Place::Top, &list),
            inner_names: names_at(Place::Attributes, &list),
            variants_keep_length: source.is_ascii() && !source.contains(['k', 'K']),
            ascii_variants_keep_length: !source.contains('\u{212A}'),
            names: list,
            lengths,
            all: false,
            timed: Vec::new(),
            texts: false,
        }
    }

    /// Reads the times of these attributes (and the profile's own times) too.
    pub fn with_times(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.timed = names
            .into_iter()
            .filter_map(|n| self.index_of(&n))
            .collect();
        self
    }

    /// Keeps the JSON text of every wanted value (see [`Slot::raw`]).
    pub fn with_texts(mut self) -> Self {
        self.texts = true;
        self
    }

    /// True when the value of wanted index `i` keeps its JSON text: the grouping key's
    /// always ("numbers by their JSON text"), the others when asked.
    #[inline(always)]
    pub(super) fn keeps_text(&self, index: usize) -> bool {
        index == 0 || self.texts
    }

    pub(super) fn wants_time(&self, index: usize) -> bool {
        self.timed.contains(&index)
    }

    pub(super) fn wants_times(&self) -> bool {
        self.all || !self.timed.is_empty()
    }

    pub fn all() -> Self {
        Wanted {
            names: Vec::new(),
            top_names: names_at(Place::Top, &[]),
            inner_names: names_at(Place::Attributes, &[]),
            variants_keep_length: true,
            ascii_variants_keep_length: true,
            lengths: 0,
            all: true,
            timed: Vec::new(),
            texts: false,
        }
    }

    pub fn is_all(&self) -> bool {
        self.all
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| **n == *name)
    }

    /// True when a key is surely [`Kind::Other`] where it stands: decided by its length
    /// alone, before any comparison, when the source's case variants all have its length.
    pub(super) fn surely_other(&self, place: Place, key: &[u8]) -> bool {
        let lengths = match place {
            Place::Top => self.lengths | TOP_LENGTHS,
            Place::Attributes | Place::Timestamps => self.lengths,
        };
        !self.all
            && lengths & (1u64 << (key.len() % 64)) == 0
            && self.variants_keep_length(|| key.is_ascii())
    }

    /// True when a key, ASCII or not as `key_ascii` says, can be a case variant of the
    /// source only if it has the source's length in bytes.
    #[inline(always)]
    fn variants_keep_length(&self, key_ascii: impl FnOnce() -> bool) -> bool {
        self.variants_keep_length || (self.ascii_variants_keep_length && key_ascii())
    }

    fn source(&self) -> Option<&str> {
        self.names.first().map(|n| &**n)
    }

    /// False when the key surely is no case variant of the source attribute, by its
    /// length.
    fn may_be_case_variant(&self, print: Print, key: &[u8]) -> bool {
        self.source().is_some_and(|source| {
            source.len() == print.len() || !self.variants_keep_length(|| print.is_ascii(key))
        })
    }

    /// A key that differs from the source attribute only in letter case.
    pub fn is_case_variant(&self, key: &str) -> bool {
        let Some(source) = self.source() else {
            return false;
        };
        if key == source {
            return false;
        }
        if key.is_ascii() && source.is_ascii() {
            key.eq_ignore_ascii_case(source)
        } else {
            key.chars()
                .flat_map(char::to_lowercase)
                .eq(source.chars().flat_map(char::to_lowercase))
        }
    }
}

/// The parts of one record a pass uses, borrowed from the input. Reused across records.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Scratch<'a> {
    pub mpid: Option<Slot<'a>>,
    /// Wanted attributes found at the top level (flat shape).
    pub(super) flat: Slots<'a>,
    /// Wanted attributes found in `user_attributes` (Profile API shape).
    pub(super) api: Slots<'a>,
    pub(super) has_api: bool,
    /// Per-attribute times from `user_attribute_timestamps`.
    pub times: Slots<'a>,
    pub updated_at: Option<Slot<'a>>,
    pub last_stored: Option<Slot<'a>>,
    pub(super) flat_variant: Option<String>,
    pub(super) api_variant: Option<String>,
    flat_all: Vec<(Cow<'a, str>, Slot<'a>)>,
    api_all: Vec<(Cow<'a, str>, Slot<'a>)>,
    /// Whole-profile reads: every `user_attribute_timestamps` entry.
    times_all: Vec<(Cow<'a, str>, Slot<'a>)>,
    /// `user_attribute_timestamps` was there but neither an object nor null: the
    /// per-attribute times are absent, and the reader of the times says so.
    pub times_not_an_object: bool,
}

impl<'a> Scratch<'a> {
    pub fn new(wanted: &Wanted) -> Self {
        let n = wanted.len();
        Scratch {
            flat: Slots::new(n),
            api: Slots::new(n),
            times: Slots::new(n),
            ..Scratch::default()
        }
    }

    pub fn reset(&mut self) {
        self.mpid = None;
        self.flat.clear();
        self.api.clear();
        self.times.clear();
        self.has_api = false;
        self.updated_at = None;
        self.last_stored = None;
        self.flat_variant = None;
        self.api_variant = None;
        self.flat_all.clear();
        self.api_all.clear();
        self.times_all.clear();
        self.times_not_an_object = false;
    }

    /// Before a `user_attributes` value: when a record repeats the key, its last value is
    /// the one used, as for any key (only the serde path reads repeats).
    fn restart_attributes(&mut self) {
        self.api.clear();
        self.api_all.clear();
        self.api_variant = None;
    }

    /// Before a `user_attribute_timestamps` value, likewise.
    fn restart_times(&mut self) {
        self.times.clear();
        self.times_all.clear();
    }

    /// The record's user attributes, by wanted index: `user_attributes` when the record
    /// has it (Profile API shape), else the top-level keys (flat shape).
    pub fn values(&self) -> &Slots<'a> {
        if self.has_api {
            &self.api
        } else {
            &self.flat
        }
    }

    pub fn value(&self, index: usize) -> Option<&Slot<'a>> {
        self.values().get(index)
    }

    /// A spelling of the source attribute that differs only in letter case, if present.
    pub fn source_variant(&self) -> Option<&str> {
        if self.has_api {
            self.api_variant.as_deref()
        } else {
            self.flat_variant.as_deref()
        }
    }

    pub fn all_attributes(&self) -> impl Iterator<Item = (&str, &Slot<'a>)> {
        let list = if self.has_api {
            &self.api_all
        } else {
            &self.flat_all
        };
        list.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Whole-profile reads: every entry of `user_attribute_timestamps`, as found.
    pub fn all_times(&self) -> impl Iterator<Item = (&str, &Slot<'a>)> {
        self.times_all.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// For CSV: a cell of a flat record.
    pub fn set_flat(&mut self, index: usize, slot: Slot<'a>) {
        self.flat.put(index, slot);
    }

    pub fn push_flat_all(&mut self, name: Cow<'a, str>, slot: Slot<'a>) {
        self.flat_all.push((name, slot));
    }

    pub fn set_flat_variant(&mut self, name: &str) {
        self.flat_variant = Some(name.to_string());
    }
}

/// Slots by wanted index (the same for attributes and their times). They remember which
/// were set: clearing them for the next record forgets those marks and drops nothing (a
/// slot's old value goes when the slot is set again), since most records leave the same
/// slots set and dropping a value means reading it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slots<'a> {
    list: Vec<Option<Slot<'a>>>,
    /// Bit `i` for slot `i` set; bit 63 for any slot from 63 on (those are cleared for
    /// real, as one bit cannot tell them apart).
    set: u64,
}

impl<'a> Slots<'a> {
    fn new(len: usize) -> Self {
        Slots {
            list: vec![None; len],
            set: 0,
        }
    }

    #[inline(always)]
    pub(super) fn put(&mut self, index: usize, slot: Slot<'a>) {
        if let Some(place) = self.list.get_mut(index) {
            *place = Some(slot);
            self.set |= 1 << index.min(63);
        }
    }

    #[inline(always)]
    pub fn get(&self, index: usize) -> Option<&Slot<'a>> {
        if self.set & (1 << index.min(63)) == 0 {
            return None;
        }
        self.list.get(index)?.as_ref()
    }

    #[inline(always)]
    fn clear(&mut self) {
        if self.set & (1 << 63) != 0 {
            self.list
                .iter_mut()
                .skip(63)
                .for_each(|place| *place = None);
        }
        self.set = 0;
    }
}

impl PartialEq for Slots<'_> {
    /// Only what the slots hold counts.
    fn eq(&self, other: &Self) -> bool {
        self.list.len() == other.list.len()
            && (0..self.list.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// Parses one JSON object record into `out`.
pub(crate) fn parse_json_record<'a>(
    text: &'a [u8],
    wanted: &Wanted,
    out: &mut Scratch<'a>,
) -> Result<(), serde_json::Error> {
    let read = |raw_shapes: bool, out: &mut Scratch<'a>| {
        out.reset();
        let mut de = serde_json::Deserializer::from_slice(text);
        de.deserialize_map(RecordVisitor {
            wanted,
            out,
            raw_shapes,
        })?;
        de.end()
    };
    match read(false, out) {
        // A bare number past a double's range as the times or the user attributes
        // (`1e400`) is still JSON, only not an object; serde refuses to type it. Read again
        // with both taken as text first, which validates their UTF-8, so not the first
        // try. The second read's error about the record's shape stands; any other failure
        // keeps the first error and its position.
        Err(error) if crate::json_error::out_of_range(&error) => {
            read(true, out).map_err(|again| if again.is_data() { again } else { error })
        }
        result => result,
    }
}

/// The top-level keys a record's shape is made of, with their meaning.
const TOP: [(&[u8], Kind); 5] = [
    (b"mpid", Kind::Mpid),
    (b"user_attributes", Kind::UserAttributes),
    (b"user_attribute_timestamps", Kind::Timestamps),
    (b"updated_at", Kind::UpdatedAt),
    (b"last_stored_timestamp_ms", Kind::LastStored),
];

/// What a key can mean where it stands, but for case variants: at the top, the keys of
/// [`TOP`] first (they mean what they mean even when also wanted), then the names.
fn names_at(place: Place, names: &[Box<str>]) -> NameTable<Kind> {
    let top = TOP.iter().filter(|_| place == Place::Top).copied();
    let wanted = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_bytes(), Kind::Wanted(i)));
    NameTable::new(top.chain(wanted))
}

/// The lengths of the [`TOP`] keys, as a bit mask.
const TOP_LENGTHS: u64 = {
    let mut mask = 0;
    let mut i = 0;
    while i < TOP.len() {
        mask |= 1 << (TOP[i].0.len() % 64);
        i += 1;
    }
    mask
};

/// What a key means where it stands, without its text (see [`Key`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    Mpid,
    UserAttributes,
    Timestamps,
    UpdatedAt,
    LastStored,
    Wanted(usize),
    /// Whole-profile reads: any attribute.
    Any,
    /// A spelling of the source attribute that differs only in letter case.
    Variant,
    Other,
}

/// What a key means where it stands, for the serde path: with the key's text where the
/// meaning needs it.
pub(super) enum Key<'de> {
    /// A meaning that needs no text (never `Any` or `Variant`).
    Is(Kind),
    /// Whole-profile reads: any attribute, by its name.
    Any(Cow<'de, str>),
    /// A spelling of the source attribute that differs only in letter case, as spelled.
    Variant(String),
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Place {
    Top,
    Attributes,
    Timestamps,
}

pub(super) struct KeySeed<'w> {
    wanted: &'w Wanted,
    place: Place,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        // Bytes, not str: a key that is not wanted is never UTF-8 validated.
        d.deserialize_bytes(self)
    }
}

impl<'w> KeySeed<'w> {
    pub(super) fn new(wanted: &'w Wanted, place: Place) -> Self {
        KeySeed { wanted, place }
    }

    /// What a key means where it stands. Most keys of a record are decided by their
    /// length alone; that test stays inline in every caller, the comparisons do not.
    #[inline(always)]
    pub(super) fn kind(&self, key: &[u8]) -> Kind {
        if self.wanted.surely_other(self.place, key) {
            return Kind::Other;
        }
        self.compare(key)
    }

    fn classify<'de, E: de::Error>(
        &self,
        key: &[u8],
        borrowed: Option<&'de [u8]>,
    ) -> Result<Key<'de>, E> {
        Ok(match self.kind(key) {
            Kind::Variant => Key::Variant(String::from_utf8_lossy(key).into_owned()),
            Kind::Any => {
                let invalid = |_| E::custom("a key is not valid UTF-8");
                Key::Any(match borrowed {
                    Some(b) => Cow::Borrowed(std::str::from_utf8(b).map_err(invalid)?),
                    None => Cow::Owned(std::str::from_utf8(key).map_err(invalid)?.to_string()),
                })
            }
            kind => Key::Is(kind),
        })
    }

    /// A small `Copy` answer, so it comes back in registers, not through memory. Inlined
    /// on wasm32, as the scanner's readers are (see `scan.rs`).
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn compare(&self, key: &[u8]) -> Kind {
        let print = Print::of(key);
        let names = match self.place {
            Place::Top => &self.wanted.top_names,
            Place::Attributes | Place::Timestamps => &self.wanted.inner_names,
        };
        if let Some(kind) = names.get(print, key) {
            return kind;
        }
        if self.wanted.all {
            return Kind::Any;
        }
        let variant = self.place != Place::Timestamps
            && self.wanted.may_be_case_variant(print, key)
            && std::str::from_utf8(key).is_ok_and(|text| self.wanted.is_case_variant(text));
        if variant {
            Kind::Variant
        } else {
            Kind::Other
        }
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
        self.classify(v, Some(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
        self.classify(v, None)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        self.classify(v.as_bytes(), Some(v.as_bytes()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        self.classify(v.as_bytes(), None)
    }
}

/// The grouping key's value, with its exact JSON text ("numbers by their JSON text").
/// Nested deeper than a typed read goes, or a string no typed read decodes (a lone UTF-16
/// surrogate), it is refused as [`typed_slot`] refuses it: a `RawValue` checks neither.
fn raw_slot<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Slot<'de>, A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    if crate::json_error::nested_too_deep(raw.get().as_bytes()) {
        return Err(de::Error::custom("recursion limit exceeded"));
    }
    Slot::read_json(raw.get()).map_err(|e| de::Error::custom(crate::json_error::what(&e)))
}

/// Any other value, typed as serde's `deserialize_any` types it (see [`typed_slot`]).
fn value_slot<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Slot<'de>, A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    typed_slot(raw.get()).map_err(de::Error::custom)
}

/// Types one JSON value from its text, as serde's `deserialize_any` types it. serde
/// refuses a number beyond a double's range (`1e400`), which is still JSON: such a number,
/// or an array or object holding one, keeps its text instead, so the record stands and
/// only where the value is used is it reported as unusable. Other errors stand.
pub(super) fn typed_slot(text: &str) -> Result<Slot<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let error = match SlotSeed
        .deserialize(&mut de)
        .and_then(|slot| de.end().map(|()| slot))
    {
        Ok(slot) => return Ok(slot),
        Err(error) => error,
    };
    // A lone number can fail for its range only; a nested one is told by serde's message.
    let keeps_text = match text.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => true,
        Some(b'[' | b'{') => crate::json_error::out_of_range(&error),
        _ => false,
    };
    if keeps_text {
        Ok(Slot {
            raw: None,
            ..Slot::from_json(text)
        })
    } else {
        Err(error)
    }
}

/// A wanted value's slot, with its JSON text when `text` (see [`Wanted::keeps_text`]).
fn wanted_slot<'de, A: MapAccess<'de>>(map: &mut A, text: bool) -> Result<Slot<'de>, A::Error> {
    if text {
        raw_slot(map)
    } else {
        value_slot(map)
    }
}

pub(super) struct SlotSeed;

impl<'de> DeserializeSeed<'de> for SlotSeed {
    type Value = Slot<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SlotSeed {
    type Value = Slot<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Null))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Slot<'de>, E> {
        Ok(typed(Val::UInt(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Float(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Str(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Str(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Slot<'de>, E> {
        Ok(typed(Val::Str(Cow::Owned(v))))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Slot<'de>, A::Error> {
        let value = serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(typed(Val::Json(Box::new(value))))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot<'de>, A::Error> {
        let value = serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(typed(Val::Json(Box::new(value))))
    }
}

/// A key that differs from the source attribute only in case, and its value: the
/// spelling is noted while its last value is not null (a repeated key's last value is the
/// one used).
pub(super) fn note_variant(noted: &mut Option<String>, name: String, value: &Slot<'_>) {
    if !value.is_null() {
        *noted = Some(name);
    } else if noted.as_deref() == Some(name.as_str()) {
        *noted = None;
    }
}

fn typed(val: Val<'_>) -> Slot<'_> {
    Slot { val, raw: None }
}

struct RecordVisitor<'s, 'a> {
    wanted: &'s Wanted,
    out: &'s mut Scratch<'a>,
    /// Take `user_attribute_timestamps` and `user_attributes` as text before reading them
    /// (see [`parse_json_record`]).
    raw_shapes: bool,
}

impl<'de> Visitor<'de> for RecordVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a profile object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let wanted = self.wanted;
        while let Some(key) = map.next_key_seed(KeySeed {
            wanted,
            place: Place::Top,
        })? {
            match key {
                Key::Is(Kind::Mpid) => self.out.mpid = Some(value_slot(&mut map)?),
                Key::Is(Kind::UpdatedAt) if wanted.wants_times() => {
                    self.out.updated_at = Some(value_slot(&mut map)?)
                }
                Key::Is(Kind::LastStored) if wanted.wants_times() => {
                    self.out.last_stored = Some(value_slot(&mut map)?)
                }
                Key::Is(Kind::Timestamps) if wanted.wants_times() => {
                    self.out.restart_times();
                    let seed = TimesSeed {
                        wanted,
                        out: &mut self.out.times,
                        all: &mut self.out.times_all,
                    };
                    let shaped = if self.raw_shapes {
                        let raw: &'de RawValue = map.next_value()?;
                        match raw.get().as_bytes().first() {
                            Some(b'{' | b'n') => reread(raw, seed).map_err(|e| placed(&e))?,
                            _ => false,
                        }
                    } else {
                        map.next_value_seed(seed)?
                    };
                    self.out.times_not_an_object = !shaped;
                }
                Key::Is(Kind::Wanted(i)) => {
                    self.out
                        .flat
                        .put(i, wanted_slot(&mut map, wanted.keeps_text(i))?);
                }
                Key::Any(name) => {
                    let slot = value_slot(&mut map)?;
                    self.out.flat_all.push((name, slot));
                }
                Key::Variant(name) => {
                    let slot = value_slot(&mut map)?;
                    note_variant(&mut self.out.flat_variant, name, &slot);
                }
                Key::Is(Kind::UserAttributes) => {
                    self.out.restart_attributes();
                    let seed = AttributesSeed {
                        wanted,
                        out: &mut *self.out,
                    };
                    let present = if self.raw_shapes {
                        let raw: &'de RawValue = map.next_value()?;
                        match reread(raw, seed) {
                            Ok(present) => present,
                            // A number no double holds is a value of the wrong type here,
                            // as any other number is.
                            Err(error) if crate::json_error::out_of_range(&error) => {
                                return Err(de::Error::invalid_type(
                                    de::Unexpected::Other("a number beyond a double's range"),
                                    &"user_attributes to be an object",
                                ));
                            }
                            Err(error) => return Err(placed(&error)),
                        }
                    } else {
                        map.next_value_seed(seed)?
                    };
                    self.out.has_api = present;
                }
                Key::Is(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a value again from its own text, taken as a `RawValue` on the record's read.
fn reread<'de, S: DeserializeSeed<'de>>(
    raw: &'de RawValue,
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    seed.deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
}

/// An error of a value read again from its text, without its place within the value: the
/// record's own reader places it.
fn placed<E: de::Error>(error: &serde_json::Error) -> E {
    E::custom(crate::json_error::what(error))
}

/// `user_attributes`: an object (or null, the same as absent).
struct AttributesSeed<'s, 'a> {
    wanted: &'s Wanted,
    out: &'s mut Scratch<'a>,
}

impl<'de> DeserializeSeed<'de> for AttributesSeed<'_, 'de> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttributesSeed<'_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("user_attributes to be an object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let wanted = self.wanted;
        while let Some(key) = map.next_key_seed(KeySeed {
            wanted,
            place: Place::Attributes,
        })? {
            match key {
                Key::Is(Kind::Wanted(i)) => {
                    self.out
                        .api
                        .put(i, wanted_slot(&mut map, wanted.keeps_text(i))?);
                }
                Key::Any(name) => {
                    let slot = value_slot(&mut map)?;
                    self.out.api_all.push((name, slot));
                }
                Key::Variant(name) => {
                    let slot = value_slot(&mut map)?;
                    note_variant(&mut self.out.api_variant, name, &slot);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(true)
    }
}

/// `user_attribute_timestamps`: attribute key to time, for the wanted attributes (or, in
/// whole-profile reads, every entry).
struct TimesSeed<'s, 'a> {
    wanted: &'s Wanted,
    out: &'s mut Slots<'a>,
    all: &'s mut Vec<(Cow<'a, str>, Slot<'a>)>,
}

impl<'de> DeserializeSeed<'de> for TimesSeed<'_, 'de> {
    /// False for a value that is neither an object nor null: it holds no times, and
    /// only costs the record its per-attribute times.
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TimesSeed<'_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("user_attribute_timestamps to be an object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed {
            wanted: self.wanted,
            place: Place::Timestamps,
        })? {
            match key {
                Key::Is(Kind::Wanted(i)) if self.wanted.wants_time(i) => {
                    self.out.put(i, value_slot(&mut map)?);
                }
                Key::Any(name) => {
                    let slot = value_slot(&mut map)?;
                    self.all.push((name, slot));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::{KeySeed, Kind, Place, Slots, Wanted};
    use crate::coerce::{Slot, Val};

    /// Case variants of the source are found whatever their length in bytes, with or
    /// without the length shortcut: the Kelvin sign (3 bytes) lowercases to `k`.
    #[test]
    fn case_variants_of_another_length_are_found() {
        let kind = |source: &str, key: &str| {
            let wanted = Wanted::new([source.to_string(), "visits".to_string()]);
            KeySeed::new(&wanted, Place::Attributes).kind(key.as_bytes())
        };
        assert_eq!(kind("$address", "$ADDRESS"), Kind::Variant);
        assert_eq!(kind("$address", "$addréss"), Kind::Other);
        assert_eq!(kind("$address", "$add"), Kind::Other);
        assert_eq!(kind("$kind", "$\u{212A}IND"), Kind::Variant);
        assert_eq!(kind("$kind", "$KIND"), Kind::Variant);
        assert_eq!(kind("$kind", "$kin"), Kind::Other);
        assert_eq!(kind("\u{212A}ind", "KIND"), Kind::Variant);
        assert_eq!(kind("\u{212A}ind", "kind"), Kind::Variant);
        assert_eq!(kind("\u{212A}ind", "kinds"), Kind::Other);
        assert_eq!(kind("İd", "i\u{307}d"), Kind::Variant);
    }

    #[test]
    fn clearing_slots_empties_every_one_set_past_the_mask_too() {
        let slot = |i: usize| Slot {
            val: Val::UInt(i as u64),
            raw: None,
        };
        let mut slots = Slots::new(70);
        for round in 0..2 {
            for i in [0, 5, 62, 63, 64, 69] {
                slots.put(i, slot(i + round));
            }
            slots.put(70, slot(70));
            assert_eq!(slots.get(64), Some(&slot(64 + round)));
            assert_eq!(slots.get(70), None);
            slots.clear();
            assert!((0..70).all(|i| slots.get(i).is_none()), "round {round}");
        }
        // A value kept from an earlier record never shows through a later one's marks.
        slots.put(65, slot(65));
        slots.put(1, slot(1));
        assert_eq!(slots.get(69), None);
        assert_eq!(slots.get(0), None);
        assert_eq!(slots, {
            let mut fresh = Slots::new(70);
            fresh.put(1, slot(1));
            fresh.put(65, slot(65));
            fresh
        });
    }
}

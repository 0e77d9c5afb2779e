//! Reading one record: only the fields a preview needs are materialized, borrowed from
//! the input; everything else is skipped by serde without allocation.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::coerce::Slot;

/// The attribute names a pass needs, by index. Index 0 is the grouping key.
#[derive(Clone, Debug)]
pub(crate) struct Wanted {
    names: Vec<Box<str>>,
    /// Every attribute is wanted (whole-profile reads).
    all: bool,
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
        Wanted {
            names: list,
            all: false,
        }
    }

    pub fn all() -> Self {
        Wanted {
            names: Vec::new(),
            all: true,
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

    fn source(&self) -> Option<&str> {
        self.names.first().map(|n| &**n)
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
#[derive(Debug, Default)]
pub(crate) struct Scratch<'a> {
    pub mpid: Option<Slot<'a>>,
    /// Wanted attributes found at the top level (flat shape).
    flat: Vec<Option<Slot<'a>>>,
    /// Wanted attributes found in `user_attributes` (Profile API shape).
    api: Vec<Option<Slot<'a>>>,
    has_api: bool,
    /// Per-attribute times from `user_attribute_timestamps`.
    pub times: Vec<Option<Slot<'a>>>,
    pub updated_at: Option<Slot<'a>>,
    pub last_stored: Option<Slot<'a>>,
    flat_variant: Option<String>,
    api_variant: Option<String>,
    flat_all: Vec<(Cow<'a, str>, Slot<'a>)>,
    api_all: Vec<(Cow<'a, str>, Slot<'a>)>,
}

impl<'a> Scratch<'a> {
    pub fn new(wanted: &Wanted) -> Self {
        let n = wanted.len();
        Scratch {
            flat: vec![None; n],
            api: vec![None; n],
            times: vec![None; n],
            ..Scratch::default()
        }
    }

    pub fn reset(&mut self) {
        self.mpid = None;
        self.flat.iter_mut().for_each(|s| *s = None);
        self.api.iter_mut().for_each(|s| *s = None);
        self.times.iter_mut().for_each(|s| *s = None);
        self.has_api = false;
        self.updated_at = None;
        self.last_stored = None;
        self.flat_variant = None;
        self.api_variant = None;
        self.flat_all.clear();
        self.api_all.clear();
    }

    /// The record's user attributes, by wanted index: `user_attributes` when the record
    /// has it (Profile API shape), else the top-level keys (flat shape).
    pub fn values(&self) -> &[Option<Slot<'a>>] {
        if self.has_api {
            &self.api
        } else {
            &self.flat
        }
    }

    pub fn value(&self, index: usize) -> Option<&Slot<'a>> {
        self.values().get(index).and_then(|s| s.as_ref())
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

    /// For CSV: a cell of a flat record.
    pub fn set_flat(&mut self, index: usize, slot: Slot<'a>) {
        if let Some(s) = self.flat.get_mut(index) {
            *s = Some(slot);
        }
    }

    pub fn push_flat_all(&mut self, name: Cow<'a, str>, slot: Slot<'a>) {
        self.flat_all.push((name, slot));
    }

    pub fn set_flat_variant(&mut self, name: &str) {
        self.flat_variant = Some(name.to_string());
    }
}

/// Parses one JSON object record into `out`.
pub(crate) fn parse_json_record<'a>(
    text: &'a [u8],
    wanted: &Wanted,
    out: &mut Scratch<'a>,
) -> Result<(), serde_json::Error> {
    out.reset();
    let mut de = serde_json::Deserializer::from_slice(text);
    de.deserialize_map(RecordVisitor { wanted, out })?;
    de.end()
}

/// What a key means where it stands.
enum Key<'de> {
    Mpid,
    UserAttributes,
    Timestamps,
    UpdatedAt,
    LastStored,
    Wanted(usize),
    /// Whole-profile reads: any attribute.
    Any(Cow<'de, str>),
    Variant(String),
    Other,
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Top,
    Attributes,
    Timestamps,
}

struct KeySeed<'w> {
    wanted: &'w Wanted,
    place: Place,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl KeySeed<'_> {
    fn classify<'de>(&self, key: &str, borrowed: Option<&'de str>) -> Key<'de> {
        if self.place == Place::Top {
            match key {
                "mpid" => return Key::Mpid,
                "user_attributes" => return Key::UserAttributes,
                "user_attribute_timestamps" => return Key::Timestamps,
                "updated_at" => return Key::UpdatedAt,
                "last_stored_timestamp_ms" => return Key::LastStored,
                _ => {}
            }
        }
        if self.wanted.all {
            if self.place == Place::Timestamps {
                return Key::Other;
            }
            return Key::Any(match borrowed {
                Some(b) => Cow::Borrowed(b),
                None => Cow::Owned(key.to_string()),
            });
        }
        if let Some(i) = self.wanted.index_of(key) {
            return Key::Wanted(i);
        }
        if self.place != Place::Timestamps && self.wanted.is_case_variant(key) {
            return Key::Variant(key.to_string());
        }
        Key::Other
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(self.classify(v, Some(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(self.classify(v, None))
    }
}

fn raw_slot<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Slot<'de>, A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    Ok(Slot::from_json(raw.get()))
}

struct RecordVisitor<'s, 'a> {
    wanted: &'s Wanted,
    out: &'s mut Scratch<'a>,
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
                Key::Mpid => self.out.mpid = Some(raw_slot(&mut map)?),
                Key::UpdatedAt => self.out.updated_at = Some(raw_slot(&mut map)?),
                Key::LastStored => self.out.last_stored = Some(raw_slot(&mut map)?),
                Key::Wanted(i) => {
                    let slot = raw_slot(&mut map)?;
                    if let Some(s) = self.out.flat.get_mut(i) {
                        *s = Some(slot);
                    }
                }
                Key::Any(name) => {
                    let slot = raw_slot(&mut map)?;
                    self.out.flat_all.push((name, slot));
                }
                Key::Variant(name) => {
                    let slot = raw_slot(&mut map)?;
                    if !slot.is_null() {
                        self.out.flat_variant = Some(name);
                    }
                }
                Key::UserAttributes => {
                    let present = map.next_value_seed(AttributesSeed {
                        wanted,
                        out: &mut *self.out,
                    })?;
                    self.out.has_api |= present;
                }
                Key::Timestamps => map.next_value_seed(TimesSeed {
                    wanted,
                    out: &mut self.out.times,
                })?,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
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
                Key::Wanted(i) => {
                    let slot = raw_slot(&mut map)?;
                    if let Some(s) = self.out.api.get_mut(i) {
                        *s = Some(slot);
                    }
                }
                Key::Any(name) => {
                    let slot = raw_slot(&mut map)?;
                    self.out.api_all.push((name, slot));
                }
                Key::Variant(name) => {
                    let slot = raw_slot(&mut map)?;
                    if !slot.is_null() {
                        self.out.api_variant = Some(name);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(true)
    }
}

/// `user_attribute_timestamps`: attribute key to time, for the wanted attributes.
struct TimesSeed<'s, 'a> {
    wanted: &'s Wanted,
    out: &'s mut Vec<Option<Slot<'a>>>,
}

impl<'de> DeserializeSeed<'de> for TimesSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TimesSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("user_attribute_timestamps to be an object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed {
            wanted: self.wanted,
            place: Place::Timestamps,
        })? {
            match key {
                Key::Wanted(i) => {
                    let slot = raw_slot(&mut map)?;
                    if let Some(s) = self.out.get_mut(i) {
                        *s = Some(slot);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

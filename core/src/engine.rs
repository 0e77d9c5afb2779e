//! Grouping and aggregation (SPEC sections 4 and 5): the state a preview keeps while
//! records stream through, and the finished [`Preview`].
//!
//! Memory is bounded by the distinct keys: each key keeps its first ten members and one
//! accumulator per group attribute; a key that passes ten members drops both. Per profile
//! only the mpid is remembered (8 bytes for integer ids), to skip repeated records.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use crate::coerce::{self, Slot};
use crate::definition::{Aggregation, GroupDefinition};
use crate::keys::KeyTable;
use crate::preview::{
    truncate, Attributes, Diagnostic, Group, KeyCount, Level, Oversized, Preview, PreviewOptions,
    Singleton, Stats,
};
use crate::profiles::reader::{RecordSink, BATCH};
use crate::profiles::record::{Scratch, Wanted};
use crate::profiles::{Diagnostics, Format, Mpid, MpidGate};
use crate::spread::{OneThread, Spread};
use crate::timestamp::{parse_time, Nanos};

mod acc;
use acc::{Acc, LongTexts, Stamp};

/// The platform creates a group only for a key of at least 5 characters.
pub const MIN_KEY_CHARS: usize = 5;
/// "Number of users per group: 10".
pub const MAX_MEMBERS: u64 = 10;

/// One group attribute, resolved against the wanted list.
#[derive(Clone, Debug)]
struct Plan {
    slot: usize,
    aggregation: Aggregation,
    /// The attribute's own id.
    id: String,
    /// `group:attribute`, the inherited name. Each part of the finish shares its own copy
    /// among its groups (see [`Engine::part`]).
    name: Box<str>,
}

struct KeyState {
    count: u64,
    first: Mpid,
}

/// A profile's grouping key, after the rules of SPEC section 4.
pub(crate) enum KeyOf<'k> {
    None,
    Unusable,
    Key(&'k str),
}

/// Reads the key from the source attribute's slot; `buffer` holds a normalized key.
pub(crate) fn key_of<'k>(
    slot: Option<&'k Slot<'_>>,
    normalize: bool,
    buffer: &'k mut String,
) -> KeyOf<'k> {
    let Some(slot) = slot else {
        return KeyOf::None;
    };
    match coerce::key_text(&slot.val) {
        Err(coerce::UnusableKey) => KeyOf::Unusable,
        Ok(None) => KeyOf::None,
        Ok(Some(key)) if normalize => {
            coerce::normalize_key(&key, buffer);
            if buffer.is_empty() {
                KeyOf::None
            } else {
                KeyOf::Key(buffer)
            }
        }
        Ok(Some(std::borrow::Cow::Borrowed(key))) => KeyOf::Key(key),
        Ok(Some(std::borrow::Cow::Owned(key))) => {
            *buffer = key;
            KeyOf::Key(buffer)
        }
    }
}

/// True when a key is too short to form a group (fewer than 5 code points).
pub(crate) fn is_short(key: &str) -> bool {
    // 20 bytes hold at least 5 code points.
    key.len() < 4 * MIN_KEY_CHARS && key.chars().count() < MIN_KEY_CHARS
}

pub(crate) struct Engine {
    group_id: String,
    source_name: String,
    plans: Vec<Plan>,
    normalize: bool,
    max_listed: usize,
    gate: MpidGate,
    diagnostics: Diagnostics,
    profiles: u64,
    no_key: u64,
    short_key: u64,
    /// Every key of 5 characters or more, with its count and first member.
    keys: KeyTable<KeyState>,
    /// Members after each key's first, in input order, while the key had at most ten.
    members: Vec<(u32, Mpid)>,
    /// `states.len() * plans.len()` accumulators, key-major.
    accs: Vec<Acc>,
    short_keys: crate::seed::HashMap<Box<str>, usize>,
    short_list: Vec<KeyCount>,
    source_present: u64,
    /// Spellings of the source attribute in another letter case, in first-seen order,
    /// with their profile counts: at most [`MAX_VARIANTS`] (a name of n letters has 2^n,
    /// and an unbounded list searched per profile was quadratic); profiles with spellings
    /// past those are counted in `other_variants`.
    variants: Vec<(String, u64)>,
    other_variants: u64,
    /// Group attributes whose ids are case variants of the source attribute: the readers
    /// take such a key for the attribute, so it is noted as a variant here.
    variant_slots: Vec<(usize, String)>,
    key_buffer: String,
    /// A `latest` value's JSON text on its way into an accumulator.
    json_buffer: Vec<u8>,
    long_texts: LongTexts,
}

/// Spellings of the source attribute in other letter cases reported one by one.
const MAX_VARIANTS: usize = 20;

impl Engine {
    /// The engine and the attribute names it needs read from each record.
    pub fn new(definition: &GroupDefinition, options: &PreviewOptions) -> (Engine, Wanted) {
        let wanted = Engine::wanted(definition);
        let variant_slots = definition
            .attributes
            .iter()
            .filter(|a| wanted.is_case_variant(&a.id))
            .filter_map(|a| Some((wanted.index_of(&a.id)?, a.id.clone())))
            .collect();
        let plans = definition
            .attributes
            .iter()
            .map(|a| Plan {
                slot: wanted.index_of(&a.id).unwrap_or(0),
                aggregation: a.aggregation,
                id: a.id.clone(),
                name: format!("{}:{}", definition.id, a.id).into(),
            })
            .collect();
        let engine = Engine {
            group_id: definition.id.clone(),
            source_name: definition.source_user_attribute.clone(),
            plans,
            normalize: options.normalize_keys,
            max_listed: options.max_listed,
            gate: MpidGate::default(),
            diagnostics: Diagnostics::new(options.max_diagnostics),
            profiles: 0,
            no_key: 0,
            short_key: 0,
            keys: KeyTable::default(),
            members: Vec::new(),
            accs: Vec::new(),
            short_keys: crate::seed::HashMap::default(),
            short_list: Vec::new(),
            source_present: 0,
            variants: Vec::new(),
            other_variants: 0,
            variant_slots,
            key_buffer: String::new(),
            json_buffer: Vec::new(),
            long_texts: LongTexts::default(),
        };
        (engine, wanted)
    }

    /// The attribute names a preview of `definition` reads from each record: the source
    /// first, and the times of `latest` attributes.
    pub fn wanted(definition: &GroupDefinition) -> Wanted {
        Wanted::new(
            std::iter::once(definition.source_user_attribute.clone())
                .chain(definition.attributes.iter().map(|a| a.id.clone())),
        )
        .with_times(
            definition
                .attributes
                .iter()
                .filter(|a| a.aggregation == Aggregation::Latest)
                .map(|a| a.id.clone()),
        )
    }

    /// Takes one record. `key_hash` is the hash of its grouping key when the caller has
    /// it already (`records`), else it is computed here.
    fn accept(&mut self, rec: &Scratch<'_>, line: u64, key_hash: Option<u64>) {
        let Some(mpid) = self.gate.admit(rec, line, &mut self.diagnostics) else {
            return;
        };
        self.profiles += 1;
        if rec.times_not_an_object {
            self.times_not_an_object(&mpid, line);
        }
        let source = rec.value(0);
        if source.is_some_and(|s| !s.is_null()) {
            self.source_present += 1;
        } else {
            let spelling = rec.source_variant().or_else(|| {
                self.variant_slots
                    .iter()
                    .find(|(slot, _)| rec.value(*slot).is_some_and(|v| !v.is_null()))
                    .map(|(_, id)| id.as_str())
            });
            if let Some(spelling) = spelling {
                let room = self.variants.len() < MAX_VARIANTS;
                match self.variants.iter_mut().find(|(s, _)| s == spelling) {
                    Some((_, n)) => *n += 1,
                    None if room => self.variants.push((spelling.to_string(), 1)),
                    None => self.other_variants += 1,
                }
            }
        }

        let mut buffer = std::mem::take(&mut self.key_buffer);
        let slot = match key_of(source, self.normalize, &mut buffer) {
            KeyOf::None => {
                self.no_key += 1;
                None
            }
            KeyOf::Unusable => {
                self.no_key += 1;
                let attribute = &self.source_name;
                self.diagnostics.push_with(|| Diagnostic {
                    mpid: Some(mpid.to_string()),
                    attribute: Some(attribute.clone()),
                    ..crate::profiles::diagnostic(
                        Level::Warning,
                        "unusable_key",
                        "the grouping attribute holds an array or object, which cannot be a group key; the profile joins no group".into(),
                        line,
                    )
                });
                None
            }
            KeyOf::Key(key) if is_short(key) => {
                self.short_key += 1;
                self.note_short(key);
                None
            }
            KeyOf::Key(key) => {
                let hash = key_hash.unwrap_or_else(|| self.keys.hash(key));
                self.join(key, hash, &mpid)
            }
        };
        self.key_buffer = buffer;
        self.aggregate(rec, slot, &mpid, line);
    }

    #[cold]
    fn times_not_an_object(&mut self, mpid: &Mpid, line: u64) {
        let diagnostic = crate::profiles::times_not_an_object(mpid, line);
        self.diagnostics.push(diagnostic);
    }

    fn note_short(&mut self, key: &str) {
        if let Some(&i) = self.short_keys.get(key) {
            if let Some(entry) = self.short_list.get_mut(i) {
                entry.count += 1;
            }
        } else if self.short_list.len() < self.max_listed {
            self.short_keys.insert(key.into(), self.short_list.len());
            self.short_list.push(KeyCount {
                key: key.to_string(),
                count: 1,
            });
        } else {
            // Past the list, a key is still remembered (a few bytes: it is short), so
            // that the distinct keys are counted exactly.
            self.short_keys.insert(key.into(), usize::MAX);
        }
    }

    /// Adds a profile to its key; the accumulator row to update, while the key can still
    /// form a group.
    fn join(&mut self, key: &str, hash: u64, mpid: &Mpid) -> Option<usize> {
        let n = self.plans.len();
        let (index, state, new) = self.keys.intern(key, hash, || KeyState {
            count: 1,
            first: mpid.clone(),
        })?;
        if new {
            self.accs
                .extend(self.plans.iter().map(|p| Acc::new(p.aggregation)));
            return Some(index);
        }
        state.count += 1;
        if state.count <= MAX_MEMBERS {
            self.members.push((index as u32, mpid.clone()));
            Some(index)
        } else {
            if state.count == MAX_MEMBERS + 1 {
                // Oversized: it will inherit nothing, so free what it held.
                let row = self
                    .accs
                    .get_mut(index * n..(index + 1) * n)
                    .unwrap_or_default();
                for (acc, plan) in row.iter_mut().zip(&self.plans) {
                    acc.clear(plan.aggregation, &mut self.long_texts);
                }
            }
            None
        }
    }

    /// Coerces each group attribute's value, reporting unusable ones, and folds the usable
    /// ones into the key's accumulators.
    fn aggregate(&mut self, rec: &Scratch<'_>, row: Option<usize>, mpid: &Mpid, line: u64) {
        let n = self.plans.len();
        let mut profile_time: Option<Option<Nanos>> = None;
        for (i, plan) in self.plans.iter().enumerate() {
            let Some(slot) = rec.value(plan.slot).filter(|s| !s.is_null()) else {
                continue;
            };
            let acc = row.and_then(|r| self.accs.get_mut(r * n + i));
            let usable = match (plan.aggregation, acc) {
                (Aggregation::BooleanOr, acc) => match coerce::as_bool(&slot.val) {
                    Some(b) => {
                        if let Some(Acc::Or(any)) = acc {
                            *any |= b;
                        }
                        true
                    }
                    None => false,
                },
                (Aggregation::Sum | Aggregation::Average, acc) => {
                    match coerce::as_number(&slot.val) {
                        Some(x) => {
                            if let Some(acc) = acc {
                                acc.add(x);
                            }
                            true
                        }
                        None => false,
                    }
                }
                (Aggregation::Latest, _) if !coerce::fits_json(&slot.val) => false,
                // The times are read for every profile, grouped or not: a time that is
                // not one is a fact about the data, reported as `uncoercible_value` is.
                (Aggregation::Latest, acc) => {
                    let own = rec.times.get(plan.slot);
                    let at = match own.map(|t| parse_time(&t.val)) {
                        Some(Ok(Some(t))) => Some(t),
                        other => {
                            if let Some(Err(_)) = other {
                                bad_time(&mut self.diagnostics, mpid, &plan.id, own, line);
                            }
                            *profile_time.get_or_insert_with(|| {
                                record_time(rec, mpid, line, &mut self.diagnostics)
                            })
                        }
                    };
                    if let Some(acc) = acc {
                        let at = Stamp::of(at);
                        if acc.takes(at) {
                            self.json_buffer.clear();
                            slot.write_json(&mut self.json_buffer);
                            acc.set_latest(at, &self.json_buffer, &mut self.long_texts);
                        }
                    }
                    true
                }
            };
            if !usable {
                let expected = match plan.aggregation {
                    Aggregation::BooleanOr => "true/false or the string \"true\"/\"false\"",
                    Aggregation::Latest => "a value whose numbers are within a double's range",
                    _ => "a number or a string holding a finite decimal number",
                };
                self.diagnostics.push_with(|| Diagnostic {
                    mpid: Some(mpid.to_string()),
                    attribute: Some(plan.id.clone()),
                    ..crate::profiles::diagnostic(
                        Level::Warning,
                        "uncoercible_value",
                        format!(
                            "{} ({}) expects {expected}; found {}; the value was left out",
                            plan.id,
                            plan.aggregation.as_str(),
                            truncate(&slot.to_json_text(), 60)
                        ),
                        line,
                    )
                });
            }
        }
    }

    /// The finished preview, built on this thread.
    pub fn finish(self, format: Format) -> (Preview, GroupIndex) {
        self.finish_on(format, &OneThread)
    }

    /// The finished preview, its groups built in parts over `spread` (a large preview
    /// makes hundreds of thousands of groups, each a few allocations): the same result
    /// however many parts there are.
    pub fn finish_on(self, format: Format, spread: &impl Spread) -> (Preview, GroupIndex) {
        let parts = key_ranges(self.keys.len(), spread.parts(self.keys.len()));
        let parts = spread.map(&parts, |keys| self.part(keys.clone()));
        let later_groups = parts.iter().skip(1).map(|p| p.groups.len()).sum();
        let mut parts = parts.into_iter();
        let mut whole = parts.next().unwrap_or_default();
        let mut offset = whole.groups.len() as u32;
        // Grown once, to its final size.
        whole.groups.reserve_exact(later_groups);
        for mut part in parts {
            add_formed(&mut whole.stats, &part.stats);
            whole.groups.append(&mut part.groups);
            whole.oversized.append(&mut part.oversized);
            whole.singletons.append(&mut part.singletons);
            whole.late.append(&mut part.late);
            // `u32::MAX` (no group) stays as it is.
            whole
                .group_of
                .extend(part.group_of.iter().map(|&g| g.saturating_add(offset)));
            offset = whole.groups.len() as u32;
        }
        whole.singletons.truncate(self.max_listed);
        let Part {
            groups,
            oversized,
            singletons,
            mut late,
            group_of,
            stats: formed,
        } = whole;
        let stats = Stats {
            profiles: self.profiles,
            skipped: self.gate.skipped,
            no_key: self.no_key,
            short_key: self.short_key,
            ..formed
        };
        // Whole-input findings come first and are never suppressed.
        let mut summary = Vec::new();
        if self.source_present == 0 {
            for (spelling, count) in &self.variants {
                summary.push(Diagnostic {
                    level: Level::Warning,
                    code: "source_attribute_case".into(),
                    message: format!(
                        "no profile has the attribute \"{}\", but {count} profile(s) have \"{spelling}\", which differs only in letter case; keys are case-sensitive",
                        self.source_name
                    ),
                    line: None,
                    column: None,
                    mpid: None,
                    attribute: Some(spelling.clone()),
                });
            }
            if self.other_variants > 0 {
                summary.push(Diagnostic {
                    level: Level::Warning,
                    code: "source_attribute_case".into(),
                    message: format!(
                        "{} more profile(s) have \"{}\" in still other letter cases (past the first {MAX_VARIANTS} spellings, which are listed); keys are case-sensitive",
                        self.other_variants, self.source_name
                    ),
                    line: None,
                    column: None,
                    mpid: None,
                    attribute: None,
                });
            }
        }
        let mut diagnostics = self.diagnostics;
        // Findings about groups count against `maxDiagnostics` as per-record ones do.
        diagnostics.cap(&mut late);
        summary.extend(late);
        summary.append(&mut diagnostics.list);
        let preview = Preview {
            group_id: self.group_id,
            format,
            stats,
            groups,
            oversized,
            singletons,
            short_keys: self.short_list,
            distinct_short_keys: self.short_keys.len() as u64,
            diagnostics: summary,
            diagnostics_suppressed: diagnostics.suppressed,
        };
        let index = GroupIndex {
            keys: self.keys,
            group_of,
        };
        (preview, index)
    }
}

impl Engine {
    /// The groups, oversized keys and singletons of the keys numbered `keys`, with the
    /// findings about them, in key order. Members are placed in input order.
    fn part(&self, keys: Range<usize>) -> Part {
        let n = self.plans.len();
        let first = keys.start;
        // The part's own copies of the shared names: parts built at once on several
        // threads would otherwise all count references on the same few.
        let names: Vec<Arc<str>> = self.plans.iter().map(|p| Arc::from(&*p.name)).collect();
        let mut part = Part {
            group_of: vec![u32::MAX; keys.len()],
            ..Part::default()
        };
        // Sized up front: a large preview's groups would otherwise be copied as they grow.
        let formed = self
            .keys
            .range(keys.clone())
            .filter(|(_, state)| (2..=MAX_MEMBERS).contains(&state.count))
            .count();
        part.groups.reserve_exact(formed);
        for (i, (key, state)) in keys.clone().zip(self.keys.range(keys.clone())) {
            match state.count {
                1 => {
                    part.stats.singletons += 1;
                    if part.singletons.len() < self.max_listed {
                        part.singletons.push(Singleton {
                            key: key.to_string(),
                            mpid: state.first.to_text(),
                        });
                    }
                }
                c if c <= MAX_MEMBERS => {
                    part.stats.groups += 1;
                    part.stats.grouped_profiles += c;
                    let row = self.accs.get(i * n..(i + 1) * n).unwrap_or_default();
                    let attributes = Attributes(
                        row.iter()
                            .zip(&self.plans)
                            .zip(&names)
                            .filter_map(|((acc, plan), name)| {
                                inherited(acc, plan, key, &self.long_texts, &mut part.late)
                                    .map(|v| (name.clone(), v))
                            })
                            .collect(),
                    );
                    if let Some(slot) = part.group_of.get_mut(i - first) {
                        *slot = part.groups.len() as u32;
                    }
                    let mut members = Vec::with_capacity(c as usize);
                    members.push(state.first.clone());
                    part.groups.push(Group {
                        key: key.to_string(),
                        members,
                        attributes,
                    });
                }
                c => {
                    part.stats.oversized_groups += 1;
                    part.stats.oversized_profiles += c;
                    part.oversized.push(Oversized {
                        key: key.to_string(),
                        size: c,
                    });
                }
            }
        }
        // The members land in groups all over memory; warm a batch's groups (and the
        // start of their member lists) first, as `records` does, so the waits overlap.
        let group_of = |key: u32| {
            (key as usize)
                .checked_sub(first)
                .and_then(|at| part.group_of.get(at))
                .copied()
                .unwrap_or(u32::MAX)
        };
        for batch in self.members.chunks(BATCH) {
            let mut targets = [u32::MAX; BATCH];
            for ((key, _), target) in batch.iter().zip(&mut targets) {
                *target = group_of(*key);
            }
            let warm = targets.iter().fold(0, |w, &g| {
                let group = part.groups.get(g as usize);
                w ^ group.map_or(0, |g| {
                    g.members.len() ^ g.members.first().map_or(0, Mpid::tag)
                })
            });
            std::hint::black_box(warm);
            for ((_, mpid), &g) in batch.iter().zip(&targets) {
                if let Some(group) = part.groups.get_mut(g as usize) {
                    group.members.push(mpid.clone());
                }
            }
        }
        part
    }
}

/// What [`Engine::part`] builds of a run of keys.
#[derive(Default)]
struct Part {
    groups: Vec<Group>,
    oversized: Vec<Oversized>,
    /// The first `max_listed`.
    singletons: Vec<Singleton>,
    /// Findings about the groups (results that overflow a double).
    late: Vec<Diagnostic>,
    /// Per key of the run, its group's index in `groups`, or `u32::MAX`.
    group_of: Vec<u32>,
    /// The counts of groups, oversized keys and singletons; the rest is zero.
    stats: Stats,
}

/// Adds the counts a [`Part`] makes.
fn add_formed(to: &mut Stats, part: &Stats) {
    to.singletons += part.singletons;
    to.groups += part.groups;
    to.grouped_profiles += part.grouped_profiles;
    to.oversized_groups += part.oversized_groups;
    to.oversized_profiles += part.oversized_profiles;
}

/// `keys` numbers cut into at most `parts` runs of about the same length, in order.
fn key_ranges(keys: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    let size = keys.div_ceil(parts).max(1);
    (0..parts)
        .map(|p| (p * size).min(keys)..((p + 1) * size).min(keys))
        .collect()
}

/// Where each formed group stands in `Preview::groups`, by key: the engine's own key
/// table, kept for a second pass over the same input.
pub(crate) struct GroupIndex {
    keys: KeyTable<KeyState>,
    /// Per key number, its index in `groups`, or `u32::MAX` when it formed no group.
    group_of: Vec<u32>,
}

impl GroupIndex {
    pub fn group(&self, key: &str) -> Option<usize> {
        let g = *self.group_of.get(self.keys.get(key)?)?;
        (g != u32::MAX).then_some(g as usize)
    }
}

fn inherited(
    acc: &Acc,
    plan: &Plan,
    key: &str,
    long: &LongTexts,
    late: &mut Vec<Diagnostic>,
) -> Option<serde_json::Value> {
    match acc {
        // Always set, as the reference says: false when no member has a usable value.
        Acc::Or(any) => Some(serde_json::Value::Bool(*any)),
        Acc::Num { count: 0, .. } => None,
        Acc::Num { .. } => {
            let total = acc.total(plan.aggregation == Aggregation::Average);
            let value = total.and_then(coerce::number_value);
            if value.is_none() {
                late.push(Diagnostic {
                    level: Level::Warning,
                    code: "non_finite_result".into(),
                    message: format!(
                        "{} of group \"{}\" overflows a double; it was not set",
                        plan.name,
                        truncate(key, 60)
                    ),
                    line: None,
                    column: None,
                    mpid: None,
                    attribute: Some(plan.id.clone()),
                });
            }
            value
        }
        Acc::Latest { .. } => json_value(acc.latest(long)?),
    }
}

/// A `latest` value from its JSON text: a string without escapes (the commonest value)
/// directly, anything else through serde_json.
fn json_value(text: &[u8]) -> Option<serde_json::Value> {
    if let Some(body) = text.strip_prefix(b"\"").and_then(|t| t.strip_suffix(b"\"")) {
        if !body.contains(&b'\\') {
            if let Ok(body) = std::str::from_utf8(body) {
                return Some(serde_json::Value::String(body.to_owned()));
            }
        }
    }
    serde_json::from_slice(text).ok()
}

fn bad_time(
    diagnostics: &mut Diagnostics,
    mpid: &Mpid,
    field: &str,
    value: Option<&Slot<'_>>,
    line: u64,
) {
    diagnostics.push_with(|| Diagnostic {
        mpid: Some(mpid.to_string()),
        attribute: Some(field.to_string()),
        ..crate::profiles::diagnostic(
            Level::Warning,
            "invalid_timestamp",
            format!(
                "the time of {field} is not an RFC 3339 string or epoch milliseconds: {}; it was treated as absent",
                value.map_or(Cow::Borrowed("?"), |v| Cow::Owned(truncate(&v.to_json_text(), 60)))
            ),
            line,
        )
    });
}

/// The profile's own time: `updated_at`, else `last_stored_timestamp_ms`.
fn record_time(
    rec: &Scratch<'_>,
    mpid: &Mpid,
    line: u64,
    diagnostics: &mut Diagnostics,
) -> Option<Nanos> {
    for (field, slot) in [
        ("updated_at", &rec.updated_at),
        ("last_stored_timestamp_ms", &rec.last_stored),
    ] {
        let Some(slot) = slot else { continue };
        match parse_time(&slot.val) {
            Ok(Some(t)) => return Some(t),
            Ok(None) => {}
            Err(_) => bad_time(diagnostics, mpid, field, Some(slot), line),
        }
    }
    None
}

impl RecordSink for Engine {
    fn record(&mut self, rec: &Scratch<'_>, line: u64) {
        self.accept(rec, line, None);
    }

    /// Warms the memory the records will touch, then takes them one by one as `record`
    /// does. A large preview's tables are far bigger than any cache, and a record's
    /// lookups depend on each other (slot, then entry, then text and accumulators), so
    /// one at a time each waits for memory in turn. Here each step is taken for the whole
    /// batch in a short loop of loads, so the waits overlap. The warming only reads: it
    /// changes no result.
    fn records(&mut self, recs: &[Scratch<'_>], lines: &[u64]) {
        for (recs, lines) in recs.chunks(BATCH).zip(lines.chunks(BATCH)) {
            self.batch(recs, lines);
        }
    }

    fn reject(&mut self, diagnostic: Diagnostic) {
        self.gate.skipped += 1;
        self.diagnostics.push(diagnostic);
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

impl Engine {
    /// [`RecordSink::records`] for at most [`BATCH`] records.
    fn batch(&mut self, recs: &[Scratch<'_>], lines: &[u64]) {
        // Where each record's lookups start: arithmetic only, no table is read yet.
        let mut mpids = [None; BATCH];
        let mut hashes = [None; BATCH];
        let mut buffer = std::mem::take(&mut self.key_buffer);
        for ((rec, mpid), hash) in recs.iter().zip(&mut mpids).zip(&mut hashes) {
            *mpid = self.gate.locate(rec);
            if let KeyOf::Key(key) = key_of(rec.value(0), self.normalize, &mut buffer) {
                *hash = Some(self.keys.hash(key));
            }
        }
        self.key_buffer = buffer;
        let mut warm = 0;
        for (mpid, hash) in mpids.iter().zip(&hashes) {
            warm ^= mpid.map_or(0, |at| self.gate.warm(at));
            warm ^= hash.map_or(0, |h| self.keys.warm_slot(h));
        }
        let entries = hashes.map(|hash| hash.and_then(|h| self.keys.likely_entry(h)));
        let n = self.plans.len();
        for &index in entries.iter().flatten() {
            let row = self
                .accs
                .get(index * n..(index + 1) * n)
                .unwrap_or_default();
            warm ^= row.iter().fold(0, |w, acc| w ^ acc.warm());
            warm ^= self.keys.warm_entry(index, |state| state.count);
        }
        for &index in entries.iter().flatten() {
            warm ^= self.keys.warm_text(index);
        }
        std::hint::black_box(warm);
        for ((rec, &line), hash) in recs.iter().zip(lines).zip(hashes) {
            self.accept(rec, line, hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{json_value, Engine};
    use crate::profiles::reader::Reader;
    use crate::{Format, GroupDefinition, PreviewOptions};

    /// The preview and where each key's group stands, its groups built in `parts` parts.
    #[cfg(not(target_family = "wasm"))]
    fn finished_in_parts(
        definition: &GroupDefinition,
        input: &[u8],
        options: &PreviewOptions,
        parts: usize,
    ) -> (crate::Preview, Vec<Option<usize>>) {
        let (mut engine, wanted) = Engine::new(definition, options);
        let mut reader = Reader::new(Format::Ndjson);
        reader.push(input, &wanted, &mut engine);
        reader.finish(&wanted, &mut engine);
        let keys: Vec<String> = engine
            .keys
            .range(0..engine.keys.len())
            .map(|(k, _)| k.to_string())
            .collect();
        let spread = crate::spread::Threads {
            threads: parts,
            min_part: 1,
        };
        let (preview, index) = engine.finish_on(Format::Ndjson, &spread);
        (preview, keys.iter().map(|k| index.group(k)).collect())
    }

    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn groups_built_in_parts_are_those_built_whole() {
        let definition: GroupDefinition = serde_json::from_value(serde_json::json!({
            "id": "household",
            "source_user_attribute": "$address",
            "attributes": [
                {"id": "ltv", "type": "sum"},
                {"id": "country", "type": "latest"}
            ]
        }))
        .unwrap();
        let mut input = String::new();
        for i in 0..400 {
            // Keys of 1 to 12 members, so singletons, groups and oversized keys fall in
            // every part; every 50th key's sum overflows a double.
            let key = i % 97 * (i % 7);
            let ltv = if key % 50 == 0 { "1e308" } else { "2.5" };
            input.push_str(&format!(
                "{{\"mpid\":{i},\"user_attributes\":{{\"$address\":\"{key} Elm Street\",\"ltv\":{ltv},\"country\":\"c{i}\"}}}}\n"
            ));
        }
        for options in [
            PreviewOptions::default(),
            PreviewOptions {
                max_listed: 3,
                max_diagnostics: 1,
                ..PreviewOptions::default()
            },
        ] {
            let (whole, index) = finished_in_parts(&definition, input.as_bytes(), &options, 1);
            assert!(
                whole.stats.groups > 3
                    && whole.stats.singletons > 3
                    && whole.stats.oversized_groups > 0
            );
            assert!(whole
                .diagnostics
                .iter()
                .any(|d| d.code == "non_finite_result"));
            for parts in 2..=5 {
                let (split, split_index) =
                    finished_in_parts(&definition, input.as_bytes(), &options, parts);
                assert_eq!(split, whole, "{parts} parts");
                assert_eq!(split_index, index, "{parts} parts");
            }
        }
    }

    #[test]
    fn latest_values_read_from_their_text_as_serde_reads_them() {
        for text in [
            r#""IT""#,
            r#""""#,
            r#""Zürich, 8001""#,
            r#""a \"quoted\" word""#,
            r#""tab\tand \u00e9""#,
            r#""\ud83d\ude00""#,
            "true",
            "null",
            "-12.5e3",
            "18446744073709551615",
            r#"[1,"two",{"three":3}]"#,
            r#"{"a":"\"b"}"#,
        ] {
            let serde: Option<serde_json::Value> = serde_json::from_str(text).ok();
            assert!(serde.is_some(), "{text}");
            assert_eq!(json_value(text.as_bytes()), serde, "{text}");
        }
    }
}

//! Seeded generator of realistic profile exports (SPEC section 8), for tests, benchmarks,
//! the playground's sample data and the emulator.
//!
//! The output depends only on the options: the same seed gives the same bytes on every
//! platform. Profiles come in households of 1 to 6 members sharing a `$address`; about
//! 0.5% of addresses are apartment buildings shared by 11 to 40 profiles (more than a
//! group may hold). Members of a household are scattered through the export, as they
//! are in a real one. Every record's times are distinct, so `latest` never sees a tie.

use crate::definition::{Aggregation, GroupAttribute, GroupDefinition};
use crate::profiles::Format;

/// What to generate. Build it with [`GeneratorOptions::new`] or `..Default::default()`
/// so that fields added later keep their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorOptions {
    pub seed: u64,
    pub profiles: usize,
    pub format: Format,
    /// Flat records (`{"mpid", "$address", "has_dog", ...}`) instead of the Profile API
    /// shape (`{"mpid", "user_attributes": {...}, ...}`). Default `false`. CSV is
    /// always flat.
    pub flat: bool,
    /// Mix in the awkward records a real export may hold: duplicate, missing and
    /// extreme mpids, `null` values, uncoercible values (`"maybe"`), unusable keys
    /// (arrays, objects, numbers, booleans), lines that are not JSON, records that are
    /// not objects, blank lines and ragged CSV rows. Default `false`.
    pub edge_cases: bool,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            seed: 1,
            profiles: 1000,
            format: Format::Ndjson,
            flat: false,
            edge_cases: false,
        }
    }
}

impl GeneratorOptions {
    /// Profile API shaped records without edge cases.
    pub fn new(seed: u64, profiles: usize, format: Format) -> Self {
        GeneratorOptions {
            seed,
            profiles,
            format,
            ..GeneratorOptions::default()
        }
    }
}

/// Writes `options.profiles` profiles in `options.format` (`Auto` means NDJSON).
pub fn generate(options: &GeneratorOptions, out: &mut Vec<u8>) {
    let mut generator = Generator::new(options);
    while generator.fill(out, usize::MAX) {}
}

/// The definition the generated data is made for: `household` by `$address`, with one
/// attribute for every aggregation.
pub fn definition_for_generated() -> GroupDefinition {
    let attribute = |id: &str, aggregation| GroupAttribute {
        id: id.to_owned(),
        aggregation,
    };
    GroupDefinition {
        id: "household".to_owned(),
        description: Some("People living at the same street address".to_owned()),
        source_user_attribute: "$address".to_owned(),
        attributes: vec![
            attribute("has_dog", Aggregation::BooleanOr),
            attribute("ltv", Aggregation::Sum),
            attribute("visits", Aggregation::Average),
            attribute("country", Aggregation::Latest),
        ],
    }
}

/// The CSV header the generator writes.
pub const CSV_COLUMNS: [&str; 7] = [
    "mpid",
    "$address",
    "has_dog",
    "ltv",
    "visits",
    "country",
    "updated_at",
];

// Slot markers for profiles that do not belong to a household.
const NO_ADDRESS: u32 = u32::MAX;
const SHORT_KEY: u32 = u32::MAX - 1;
/// Households beyond this many reuse addresses (about 350 million: never in practice).
const MAX_HOUSEHOLD: u32 = u32::MAX - 2;

/// Generates profiles a batch at a time, so a large export can be written out as it is
/// made instead of held in memory whole.
pub struct Generator {
    rng: fastrand::Rng,
    seed: u64,
    format: Format,
    flat: bool,
    edge_cases: bool,
    /// Household of each record, in output order.
    slots: Vec<u32>,
    next: usize,
    started: bool,
    finished: bool,
    /// Earlier mpids, kept only with edge cases, to repeat one now and then.
    recent_mpids: Vec<i64>,
}

impl Generator {
    pub fn new(options: &GeneratorOptions) -> Self {
        let mut rng = fastrand::Rng::with_seed(options.seed);
        let slots = assign_households(&mut rng, options.profiles);
        Generator {
            rng,
            seed: options.seed,
            format: match options.format {
                Format::Auto => Format::Ndjson,
                other => other,
            },
            flat: options.flat,
            edge_cases: options.edge_cases,
            slots,
            next: 0,
            started: false,
            finished: false,
            recent_mpids: Vec::new(),
        }
    }

    /// Appends up to `max_records` more records to `out` (the JSON bracket or CSV header
    /// before the first, the closing bracket after the last). Returns `false` once the
    /// whole export has been written.
    pub fn fill(&mut self, out: &mut Vec<u8>, max_records: usize) -> bool {
        if self.finished {
            return false;
        }
        if !self.started {
            self.started = true;
            match self.format {
                Format::Json => out.extend_from_slice(b"[\n"),
                Format::Csv => {
                    out.extend_from_slice(CSV_COLUMNS.join(",").as_bytes());
                    out.extend_from_slice(self.csv_newline());
                }
                Format::Auto | Format::Ndjson => {}
            }
        }
        let end = self.slots.len().min(self.next.saturating_add(max_records));
        while self.next < end {
            let index = self.next;
            self.next += 1;
            if self.format == Format::Json && index > 0 {
                out.extend_from_slice(b",\n");
            }
            self.record(index, out);
        }
        if self.next >= self.slots.len() {
            if self.format == Format::Json {
                out.extend_from_slice(if self.slots.is_empty() {
                    b"]\n"
                } else {
                    b"\n]\n"
                });
            }
            self.finished = true;
            return false;
        }
        true
    }

    fn csv_newline(&self) -> &'static [u8] {
        // Edge cases also exercise CRLF, the RFC 4180 line break.
        if self.edge_cases {
            b"\r\n"
        } else {
            b"\n"
        }
    }

    fn record(&mut self, index: usize, out: &mut Vec<u8>) {
        let profile = self.profile(index);
        match self.format {
            Format::Csv => self.write_csv(&profile, out),
            _ => {
                let broken = self.edge_cases && self.rng.u32(0..1000) < 8;
                if broken {
                    self.write_broken(&profile, out);
                } else if self.flat {
                    write_flat(&profile, out);
                } else {
                    write_api(&profile, out);
                }
                if self.format != Format::Json {
                    out.push(b'\n');
                    if self.edge_cases && self.rng.u32(0..100) == 0 {
                        // Blank lines are skipped.
                        out.extend_from_slice(if self.rng.bool() { b"\n" } else { b"  \r\n" });
                    }
                }
            }
        }
    }

    /// A record that must be skipped: a line that is not JSON (NDJSON) or a record that
    /// is not an object (a JSON array cannot hold a broken line without ending there).
    fn write_broken(&mut self, profile: &Profile, out: &mut Vec<u8>) {
        if self.format == Format::Json {
            let choices: [&[u8]; 4] = [b"42", b"\"not a profile\"", b"[1,2]", b"null"];
            out.extend_from_slice(choices[draw(&mut self.rng, 0..choices.len())]);
        } else {
            let mut line = Vec::new();
            write_api(profile, &mut line);
            let cut = draw(&mut self.rng, 1..line.len().max(2));
            out.extend_from_slice(line.get(..cut).unwrap_or(&line));
            if self.rng.bool() {
                out.extend_from_slice(b"}}");
            }
        }
    }

    fn profile(&mut self, index: usize) -> Profile {
        let rng = &mut self.rng;
        let edge = self.edge_cases;
        let slot = self.slots.get(index).copied().unwrap_or(NO_ADDRESS);
        let time = RecordTimes::new(self.seed, index, rng);

        let mut mpid = Some(MpidText::Number(mpid_for(self.seed, index)));
        if edge {
            let roll = rng.u32(0..1000);
            if index == 3 {
                mpid = Some(MpidText::Number(i64::MIN));
            } else if index == 7 {
                mpid = Some(MpidText::String(i64::MAX.to_string()));
            } else if roll < 10 {
                mpid = None;
            } else if roll < 20 && !self.recent_mpids.is_empty() {
                let pick = draw(rng, 0..self.recent_mpids.len());
                mpid = self.recent_mpids.get(pick).map(|m| MpidText::Number(*m));
            } else if roll < 80 {
                mpid = Some(MpidText::String(mpid_for(self.seed, index).to_string()));
            }
            if let Some(MpidText::Number(m)) = mpid {
                if self.recent_mpids.len() < 64 {
                    self.recent_mpids.push(m);
                } else {
                    let at = draw(rng, 0..64);
                    if let Some(old) = self.recent_mpids.get_mut(at) {
                        *old = m;
                    }
                }
            }
        }

        let first = pick(rng, FIRST_NAMES);
        let last = pick(rng, LAST_NAMES);
        let (address, city) = match slot {
            NO_ADDRESS => (Value::Absent, pick(rng, CITIES).0),
            SHORT_KEY => (
                Value::Str(pick(rng, SHORT_KEYS).to_owned()),
                pick(rng, CITIES).0,
            ),
            household => {
                let a = address_for(self.seed, household);
                (Value::Str(a.text), a.city)
            }
        };

        let has_dog = match rng.u32(0..100) {
            0..=29 => Value::Absent,
            30..=84 => Value::Bool(rng.u32(0..100) < 35),
            _ => Value::Str(pick(rng, &["true", "FALSE", "True", "false"]).to_owned()),
        };
        let cents = rng.u64(0..50_000) + rng.u64(0..50_000) * u64::from(rng.u32(0..10) == 0);
        let ltv = match rng.u32(0..100) {
            0..=19 => Value::Absent,
            20..=84 => Value::Raw(format!("{}.{:02}", cents / 100, cents % 100)),
            85..=94 => Value::Str(format!("{}.{:02}", cents / 100, cents % 100)),
            _ => Value::Str((cents / 100).to_string()),
        };
        let visits = if rng.u32(0..100) < 85 {
            let most = rng.u32(1..400);
            Value::Raw(rng.u32(0..most).to_string())
        } else {
            Value::Absent
        };
        let country = if rng.u32(0..100) < 90 {
            Value::Str(pick(rng, COUNTRIES).to_owned())
        } else {
            Value::Absent
        };
        let country_time = match (&country, rng.u32(0..100)) {
            (Value::Absent, _) => None,
            (_, 0..=34) => Some(time.country.clone()),
            (_, 35..=69) => Some(TimeText::Ms(time.country_ms)),
            _ => None,
        };
        let ltv_time = match (&ltv, rng.u32(0..100)) {
            (Value::Absent, _) | (_, 25..=99) => None,
            _ => Some(TimeText::Ms(time.country_ms.saturating_sub(86_400_000))),
        };
        let updated_at = match rng.u32(0..100) {
            0..=44 => Some(time.updated.clone()),
            45..=69 => Some(TimeText::Ms(time.updated_ms)),
            _ => None,
        };

        let mut profile = Profile {
            mpid,
            created_ms: time
                .updated_ms
                .saturating_sub(rng.i64(86_400_000..40_000_000_000)),
            last_stored_ms: time.stored_ms,
            updated_at,
            customer_id: format!("C{:08}", index.wrapping_mul(7919) % 100_000_000),
            has_email: rng.u32(0..100) < 60,
            email: format!(
                "{}.{}{}@{}",
                ascii_lower(first),
                ascii_lower(last),
                rng.u32(1..100),
                pick(rng, EMAIL_DOMAINS)
            ),
            address,
            first,
            last,
            city,
            gender: pick(rng, &["F", "M", "F", "M", "U"]),
            age: rng.u32(18..90),
            plan: pick(rng, &["free", "basic", "premium", "family"]),
            has_dog,
            ltv,
            visits,
            country,
            country_time,
            ltv_time,
        };
        if edge {
            self.spoil(&mut profile);
        }
        profile
    }

    /// Edge cases in values: nulls, uncoercible values and unusable keys.
    fn spoil(&mut self, p: &mut Profile) {
        let rng = &mut self.rng;
        if rng.u32(0..100) < 2 {
            p.address = Value::Null;
        }
        match rng.u32(0..1000) {
            0..=4 => p.address = Value::Raw("[\"1 Main St\",\"2 Main St\"]".to_owned()),
            5..=9 => p.address = Value::Raw("{\"street\":\"1 Main St\"}".to_owned()),
            10..=14 => p.address = Value::Raw("12345".to_owned()),
            15..=17 => p.address = Value::Raw("true".to_owned()),
            18..=22 => p.address = Value::Str(String::new()),
            _ => {}
        }
        if rng.u32(0..100) < 3 {
            p.has_dog = Value::Null;
        }
        if rng.u32(0..100) < 3 {
            p.has_dog = Value::Str(pick(rng, &["maybe", "yes", "1", " TRUE "]).to_owned());
        }
        if rng.u32(0..100) < 3 {
            p.ltv = Value::Str(pick(rng, &["lots", "1e3", "-3.5", "$12", "NaN"]).to_owned());
        }
        if rng.u32(0..100) < 2 {
            p.visits = Value::Str(pick(rng, &["n/a", "12", " 7 "]).to_owned());
        }
        if rng.u32(0..100) < 2 {
            p.country = Value::Null;
        }
        if rng.u32(0..100) < 2 {
            p.country_time = Some(TimeText::Rfc3339("yesterday".to_owned()));
        }
    }

    fn write_csv(&mut self, p: &Profile, out: &mut Vec<u8>) {
        let mpid = match &p.mpid {
            Some(MpidText::Number(m)) => m.to_string(),
            Some(MpidText::String(s)) => s.clone(),
            None => String::new(),
        };
        let time = match &p.updated_at {
            Some(TimeText::Rfc3339(s)) => s.clone(),
            Some(TimeText::Ms(ms)) => ms.to_string(),
            None => String::new(),
        };
        let cells = [
            mpid,
            p.address.csv_text(),
            p.has_dog.csv_text(),
            p.ltv.csv_text(),
            p.visits.csv_text(),
            p.country.csv_text(),
            time,
        ];
        // A ragged row now and then: fewer cells than the header.
        let count = if self.edge_cases && self.rng.u32(0..1000) < 5 {
            draw(&mut self.rng, 1..cells.len())
        } else {
            cells.len()
        };
        for (i, cell) in cells.iter().take(count).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_csv_cell(cell, out);
        }
        out.extend_from_slice(self.csv_newline());
    }
}

/// Decides the household of every record: whole households are laid out, then the
/// records are shuffled so that members are scattered through the export.
fn assign_households(rng: &mut fastrand::Rng, profiles: usize) -> Vec<u32> {
    let mut slots = Vec::with_capacity(profiles);
    let mut household: u32 = 0;
    while slots.len() < profiles {
        let roll = rng.u32(0..1000);
        if roll < 20 {
            slots.push(NO_ADDRESS);
            continue;
        }
        if roll < 30 {
            slots.push(SHORT_KEY);
            continue;
        }
        // About 0.5% of addresses are buildings shared by more than 10 profiles.
        let size = if rng.u32(0..1000) < 5 {
            draw(rng, 11..41)
        } else {
            match rng.u32(0..100) {
                0..=27 => 1,
                28..=61 => 2,
                62..=76 => 3,
                77..=88 => 4,
                89..=95 => 5,
                _ => 6,
            }
        };
        for _ in 0..size {
            if slots.len() < profiles {
                slots.push(household);
            }
        }
        household = if household >= MAX_HOUSEHOLD {
            0
        } else {
            household + 1
        };
    }
    shuffle(rng, &mut slots);
    slots
}

/// A bijective 64-bit mix (splitmix64's finalizer): distinct indexes give distinct
/// mpids, spread over the whole signed range.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn mpid_for(seed: u64, index: usize) -> i64 {
    let salt = mix64(seed ^ 0x6d70_6964);
    // Two's complement reinterpretation: half of the mpids are negative.
    mix64(salt.wrapping_add(index as u64)) as i64
}

struct Address {
    text: String,
    city: &'static str,
}

/// The address of a household: a bijection from the household number onto
/// (house number, street, suffix, city), so distinct households never share one.
fn address_for(seed: u64, household: u32) -> Address {
    let numbers = 9_999u64;
    let streets = STREETS.len() as u64;
    let suffixes = SUFFIXES.len() as u64;
    let cities = CITIES.len() as u64;
    let space = numbers * streets * suffixes * cities;
    // 2654435761 is prime and larger than `space`, so multiplying is a bijection mod it.
    let mut x = (u64::from(household) * 2_654_435_761 + mix64(seed) % space) % space;
    let number = x % numbers + 1;
    x /= numbers;
    let street = STREETS
        .get((x % streets) as usize)
        .copied()
        .unwrap_or("Main");
    x /= streets;
    let suffix = SUFFIXES
        .get((x % suffixes) as usize)
        .copied()
        .unwrap_or("St");
    x /= suffixes;
    let (city, state, zip3) =
        CITIES
            .get((x % cities) as usize)
            .copied()
            .unwrap_or(("Springfield", "IL", "627"));
    let zip = format!("{zip3}{:02}", (number * 7 + x) % 100);
    let text = format!("{number} {street} {suffix}, {city}, {state} {zip}");
    Address { text, city }
}

/// Times of one record. Each record owns a distinct one-minute slot (a bijection of
/// its index), and each kind of time a distinct third of it, so no two records share a
/// time that `latest` compares.
struct RecordTimes {
    country_ms: i64,
    country: TimeText,
    updated_ms: i64,
    updated: TimeText,
    stored_ms: i64,
}

impl RecordTimes {
    fn new(seed: u64, index: usize, rng: &mut fastrand::Rng) -> Self {
        const SLOTS: u64 = 1_000_003; // prime: the slot permutation below is a bijection
        const SLOT_MS: i64 = 60_000;
        const BASE_MS: i64 = 1_672_531_200_000; // 2023-01-01T00:00:00Z
        let slot = ((index as u64 % SLOTS) * 48_271 + mix64(seed) % SLOTS) % SLOTS;
        let start = BASE_MS + slot as i64 * SLOT_MS;
        let country_ms = start + rng.i64(0..20_000);
        let updated_ms = start + 20_000 + rng.i64(0..20_000);
        let stored_ms = start + 40_000 + rng.i64(0..20_000);
        let offset = match rng.u32(0..10) {
            0 => 60,
            1 => -300,
            2 => 330,
            _ => 0,
        };
        RecordTimes {
            country_ms,
            country: TimeText::Rfc3339(rfc3339(country_ms, offset)),
            updated_ms,
            updated: TimeText::Rfc3339(rfc3339(updated_ms, offset)),
            stored_ms,
        }
    }
}

/// Formats epoch milliseconds as RFC 3339 with milliseconds, in the given offset
/// (minutes east of UTC; 0 prints `Z`).
pub fn rfc3339(epoch_ms: i64, offset_minutes: i32) -> String {
    let local = epoch_ms + i64::from(offset_minutes) * 60_000;
    let days = local.div_euclid(86_400_000);
    let in_day = local.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
    };
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}{zone}")
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

enum MpidText {
    Number(i64),
    String(String),
}

#[derive(Clone)]
enum TimeText {
    Rfc3339(String),
    Ms(i64),
}

/// An attribute value as it will be written.
enum Value {
    Absent,
    Null,
    Bool(bool),
    Str(String),
    /// JSON text written as is (numbers, arrays, objects).
    Raw(String),
}

impl Value {
    fn csv_text(&self) -> String {
        match self {
            Value::Absent | Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) | Value::Raw(s) => s.clone(),
        }
    }
}

struct Profile {
    mpid: Option<MpidText>,
    created_ms: i64,
    last_stored_ms: i64,
    updated_at: Option<TimeText>,
    customer_id: String,
    email: String,
    /// Not every profile has an email identity.
    has_email: bool,
    address: Value,
    first: &'static str,
    last: &'static str,
    city: &'static str,
    gender: &'static str,
    age: u32,
    plan: &'static str,
    has_dog: Value,
    ltv: Value,
    visits: Value,
    country: Value,
    country_time: Option<TimeText>,
    ltv_time: Option<TimeText>,
}

/// Appends `"key":value` pairs, comma-separated, tracking whether one was written.
struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_json_string(key, self.out);
        self.out.push(b':');
    }

    fn raw(&mut self, key: &str, raw: &str) {
        self.key(key);
        self.out.extend_from_slice(raw.as_bytes());
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        write_json_string(value, self.out);
    }

    fn value(&mut self, key: &str, value: &Value) {
        match value {
            Value::Absent => {}
            Value::Null => self.raw(key, "null"),
            Value::Bool(b) => self.raw(key, if *b { "true" } else { "false" }),
            Value::Str(s) => self.string(key, s),
            Value::Raw(r) => self.raw(key, r),
        }
    }

    fn time(&mut self, key: &str, time: &Option<TimeText>) {
        match time {
            None => {}
            Some(TimeText::Rfc3339(s)) => self.string(key, s),
            Some(TimeText::Ms(ms)) => self.raw(key, &ms.to_string()),
        }
    }

    fn mpid(&mut self, mpid: &Option<MpidText>) {
        match mpid {
            None => {}
            Some(MpidText::Number(m)) => self.raw("mpid", &m.to_string()),
            Some(MpidText::String(s)) => self.string("mpid", s),
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

fn write_attributes(p: &Profile, o: &mut ObjectWriter<'_>) {
    o.value("$address", &p.address);
    o.string("$firstname", p.first);
    o.string("$lastname", p.last);
    o.string("$city", p.city);
    o.string("$gender", p.gender);
    o.raw("$age", &p.age.to_string());
    o.value("has_dog", &p.has_dog);
    o.value("ltv", &p.ltv);
    o.value("visits", &p.visits);
    o.value("country", &p.country);
    o.string("plan", p.plan);
}

fn write_timestamps(p: &Profile, o: &mut ObjectWriter<'_>) {
    if p.country_time.is_none() && p.ltv_time.is_none() {
        return;
    }
    o.key("user_attribute_timestamps");
    let mut t = ObjectWriter::open(o.out);
    t.time("country", &p.country_time);
    t.time("ltv", &p.ltv_time);
    t.close();
}

/// The Profile API shape.
fn write_api(p: &Profile, out: &mut Vec<u8>) {
    let mut o = ObjectWriter::open(out);
    o.mpid(&p.mpid);
    o.raw("created_timestamp_ms", &p.created_ms.to_string());
    o.raw("last_stored_timestamp_ms", &p.last_stored_ms.to_string());
    o.time("updated_at", &p.updated_at);
    o.key("user_identities");
    o.out
        .extend_from_slice(b"[{\"type\":\"customer_id\",\"value\":");
    write_json_string(&p.customer_id, o.out);
    if p.has_email {
        o.out.extend_from_slice(b"},{\"type\":\"email\",\"value\":");
        write_json_string(&p.email, o.out);
    }
    o.out.extend_from_slice(b"}]");
    o.key("user_attributes");
    let mut a = ObjectWriter::open(o.out);
    write_attributes(p, &mut a);
    a.close();
    write_timestamps(p, &mut o);
    o.close();
}

/// The flat shape: every key but `mpid` and the time fields is a user attribute.
fn write_flat(p: &Profile, out: &mut Vec<u8>) {
    let mut o = ObjectWriter::open(out);
    o.mpid(&p.mpid);
    write_attributes(p, &mut o);
    if p.has_email {
        o.string("email", &p.email);
    }
    o.time("updated_at", &p.updated_at);
    o.raw("last_stored_timestamp_ms", &p.last_stored_ms.to_string());
    write_timestamps(p, &mut o);
    o.close();
}

fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// RFC 4180: quote a cell holding a comma, a quote or a line break; double the quotes.
fn write_csv_cell(cell: &str, out: &mut Vec<u8>) {
    if cell.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// A draw from `range` made with 64 bits on every target. fastrand's own `usize` draws 32
/// bits on wasm32, so the playground's sample data would differ from `generate`'s for the
/// same seed; on 64-bit targets this is the very draw `usize` makes, so nothing changes
/// there.
fn draw(rng: &mut fastrand::Rng, range: std::ops::Range<usize>) -> usize {
    rng.u64(range.start as u64..range.end as u64) as usize
}

/// fastrand's `shuffle` (the same swaps), with [`draw`]'s 64-bit draws.
fn shuffle<T>(rng: &mut fastrand::Rng, items: &mut [T]) {
    for i in 1..items.len() {
        items.swap(i, draw(rng, 0..i + 1));
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[T]) -> T {
    // Every list below is non-empty; the fallback index keeps this panic-free anyway.
    let i = draw(rng, 0..items.len().max(1));
    items[i.min(items.len().saturating_sub(1))]
}

fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

const SHORT_KEYS: &[&str] = &["n/a", "none", "-", "TBD", "0", "?"];

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Jane",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "William",
    "Linda",
    "David",
    "Elizabeth",
    "Richard",
    "Barbara",
    "Joseph",
    "Susan",
    "Thomas",
    "Jessica",
    "Carlos",
    "María",
    "José",
    "Zoë",
    "Chloé",
    "Søren",
    "Björn",
    "Noémie",
    "Aiko",
    "Wei",
    "Priya",
    "Olumide",
    "Fatima",
    "Łukasz",
    "Émile",
    "Ana",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Ava",
    "Mateo",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernández",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Pérez",
    "Thompson",
    "White",
    "Harris",
    "Sánchez",
    "Clark",
    "Müller",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Doe",
    "Østergaard",
    "Yamamoto",
];

const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Walnut",
    "Spring",
    "North",
    "Ridge",
    "Church",
    "Willow",
    "Mill",
    "Sunset",
    "Park",
    "Highland",
    "Jackson",
    "Cherry",
    "Lincoln",
    "Franklin",
    "Chestnut",
    "Madison",
    "Meadow",
    "River",
    "Forest",
    "Jefferson",
    "Adams",
    "Hickory",
    "Dogwood",
    "Magnolia",
    "Birch",
    "Laurel",
    "Valley",
    "Aspen",
    "Sycamore",
    "Poplar",
    "Center",
    "Broad",
    "Market",
    "Bridge",
    "Water",
    "Union",
    "Prospect",
    "Cherry Blossom",
    "Old Mill",
    "Fairview",
    "Woodland",
    "Orchard",
    "Harbor",
    "Sierra Vista",
    "Camino Real",
    "Peña",
    "Bayou",
    "Prairie",
    "Canyon",
    "Mesa",
    "Glen",
    "Cottonwood",
    "Juniper",
    "Summit",
    "Riverside",
];

const SUFFIXES: &[&str] = &[
    "St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl", "Ter",
];

/// City, state and the first three digits of its ZIP codes.
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "627"),
    ("Portland", "OR", "972"),
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("Columbus", "OH", "432"),
    ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"),
    ("Boise", "ID", "837"),
    ("Tucson", "AZ", "857"),
    ("Omaha", "NE", "681"),
    ("Albany", "NY", "122"),
    ("Brooklyn", "NY", "112"),
    ("Seattle", "WA", "981"),
    ("Spokane", "WA", "992"),
    ("Fresno", "CA", "937"),
    ("San José", "CA", "951"),
    ("Oakland", "CA", "946"),
    ("Pasadena", "CA", "911"),
    ("Miami", "FL", "331"),
    ("Tampa", "FL", "336"),
    ("Orlando", "FL", "328"),
    ("Atlanta", "GA", "303"),
    ("Savannah", "GA", "314"),
    ("Nashville", "TN", "372"),
    ("Memphis", "TN", "381"),
    ("Louisville", "KY", "402"),
    ("Richmond", "VA", "232"),
    ("Baltimore", "MD", "212"),
    ("Newark", "NJ", "071"),
    ("Hartford", "CT", "061"),
    ("Providence", "RI", "029"),
    ("Burlington", "VT", "054"),
    ("Portland", "ME", "041"),
    ("Cambridge", "MA", "021"),
    ("Pittsburgh", "PA", "152"),
    ("Cleveland", "OH", "441"),
    ("Detroit", "MI", "482"),
    ("Ann Arbor", "MI", "481"),
    ("Minneapolis", "MN", "554"),
    ("St. Paul", "MN", "551"),
    ("Des Moines", "IA", "503"),
    ("Kansas City", "MO", "641"),
    ("St. Louis", "MO", "631"),
    ("Tulsa", "OK", "741"),
    ("Santa Fe", "NM", "875"),
    ("Salt Lake City", "UT", "841"),
    ("Reno", "NV", "895"),
    ("Anchorage", "AK", "995"),
    ("Honolulu", "HI", "968"),
    ("Coeur d'Alene", "ID", "838"),
];

const COUNTRIES: &[&str] = &[
    "US", "US", "US", "US", "US", "US", "CA", "GB", "DE", "FR", "MX", "BR", "JP", "IN", "AU", "ES",
    "IT", "NL", "SE", "KR",
];

const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example",
    "inbox.example.net",
];

/// What [`fixed_sample_digest`] gives on every target: the native tests and the wasm tests
/// (`web/tests/api.rs`) both check it, so a seed's bytes are the same everywhere.
#[doc(hidden)]
pub const FIXED_SAMPLE_DIGEST: u64 = 6_680_624_260_776_250_389;

/// For tests: an FNV-1a digest of 3,000 flat NDJSON profiles with edge cases, seed 7 (every
/// kind of draw the generator makes).
#[doc(hidden)]
pub fn fixed_sample_digest() -> u64 {
    let options = GeneratorOptions {
        flat: true,
        edge_cases: true,
        ..GeneratorOptions::new(7, 3000, Format::Ndjson)
    };
    let mut out = Vec::new();
    generate(&options, &mut out);
    out.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(options: &GeneratorOptions) -> Vec<u8> {
        let mut out = Vec::new();
        generate(options, &mut out);
        out
    }

    #[test]
    fn the_bytes_for_a_seed_are_fixed_on_every_target() {
        assert_eq!(fixed_sample_digest(), FIXED_SAMPLE_DIGEST);
    }

    #[test]
    fn same_seed_same_bytes_and_different_seed_different_bytes() {
        let a = make(&GeneratorOptions::new(7, 300, Format::Ndjson));
        let b = make(&GeneratorOptions::new(7, 300, Format::Ndjson));
        let c = make(&GeneratorOptions::new(8, 300, Format::Ndjson));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ndjson_lines_are_profile_api_objects_of_realistic_size() {
        let out = make(&GeneratorOptions::new(1, 2000, Format::Ndjson));
        let text = std::str::from_utf8(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        let average = out.len() / lines.len();
        assert!(
            (300..=550).contains(&average),
            "average line {average} bytes"
        );
        let mut mpids = std::collections::HashSet::new();
        let mut negative = 0;
        let mut above_2_53 = 0;
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let mpid = v["mpid"].as_i64().unwrap();
            assert!(mpids.insert(mpid), "mpid {mpid} repeated");
            negative += usize::from(mpid < 0);
            above_2_53 += usize::from(mpid.unsigned_abs() > 1 << 53);
            assert!(v["user_attributes"].is_object());
            assert!(v["user_identities"].is_array());
            assert!(v["last_stored_timestamp_ms"].is_i64());
        }
        assert!(negative > 500 && above_2_53 > 1000);
    }

    #[test]
    fn households_oversized_buildings_and_missing_addresses_appear() {
        let out = make(&GeneratorOptions::new(3, 20_000, Format::Ndjson));
        let mut counts = std::collections::HashMap::<String, usize>::new();
        let mut no_address = 0;
        let mut string_bools = 0;
        let mut string_numbers = 0;
        for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            let attrs = &v["user_attributes"];
            match attrs["$address"].as_str() {
                Some(a) => *counts.entry(a.to_owned()).or_default() += 1,
                None => no_address += 1,
            }
            string_bools += usize::from(attrs["has_dog"].is_string());
            string_numbers += usize::from(attrs["ltv"].is_string());
        }
        let sizes: Vec<usize> = counts.values().copied().collect();
        let oversized = sizes.iter().filter(|s| **s > 10).count();
        let grouped = sizes.iter().filter(|s| (2..=6).contains(*s)).count();
        assert!(oversized >= 3, "{oversized} oversized addresses");
        assert!(grouped > 1000);
        assert!(sizes.iter().all(|s| *s <= 40));
        assert!(counts.keys().any(|k| k.chars().count() < 5));
        assert!(no_address > 100);
        assert!(string_bools > 100 && string_numbers > 100);
    }

    #[test]
    fn json_array_and_flat_shapes_parse() {
        let mut options = GeneratorOptions::new(5, 500, Format::Json);
        let v: serde_json::Value = serde_json::from_slice(&make(&options)).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 500);
        options.flat = true;
        let v: serde_json::Value = serde_json::from_slice(&make(&options)).unwrap();
        let first = &v.as_array().unwrap()[0];
        assert!(first.get("user_attributes").is_none());
        assert!(first.get("$firstname").is_some());
        options.profiles = 0;
        let v: serde_json::Value = serde_json::from_slice(&make(&options)).unwrap();
        assert_eq!(v, serde_json::json!([]));
    }

    #[test]
    fn csv_has_the_header_and_quotes_addresses() {
        let out = make(&GeneratorOptions::new(9, 200, Format::Csv));
        let text = std::str::from_utf8(&out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("mpid,$address,has_dog,ltv,visits,country,updated_at")
        );
        assert!(lines.any(|l| l.contains(",\"") && l.contains(", ")));
    }

    #[test]
    fn batches_equal_one_shot() {
        let options = GeneratorOptions {
            edge_cases: true,
            ..GeneratorOptions::new(11, 1000, Format::Json)
        };
        let whole = make(&options);
        let mut generator = Generator::new(&options);
        let mut batched = Vec::new();
        while generator.fill(&mut batched, 37) {}
        assert_eq!(whole, batched);
    }

    #[test]
    fn edge_cases_hold_what_they_promise() {
        let options = GeneratorOptions {
            edge_cases: true,
            ..GeneratorOptions::new(2, 3000, Format::Ndjson)
        };
        let out = make(&options);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"maybe\""));
        assert!(text.contains("-9223372036854775808"));
        assert!(text.contains("\"9223372036854775807\""));
        assert!(text.contains("\"$address\":null"));
        assert!(text.contains("\"$address\":["));
        let broken = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
            .count();
        assert!(broken > 5);
        let missing = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("mpid").is_none())
            .count();
        assert!(missing > 5);
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_709_641_696_789, 0), "2024-03-05T12:28:16.789Z");
        assert_eq!(
            rfc3339(1_709_641_696_789, -300),
            "2024-03-05T07:28:16.789-05:00"
        );
        assert_eq!(rfc3339(951_782_400_000, 0), "2000-02-29T00:00:00.000Z");
    }
}

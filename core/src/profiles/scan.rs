//! The fast path for one JSON record: a scanner that reads the few fields a pass needs
//! and skips the rest, validating as it goes, with no per-key dispatch through serde.
//!
//! It accepts only records serde_json accepts, and fills [`Scratch`] exactly as the serde
//! path in [`super::record`] does. Anything out of the ordinary (an escaped key, a value
//! it does not type itself, deep nesting, whole-profile reads, any error) makes it give
//! up, and the record goes through the serde path, which also words every error.

use std::borrow::Cow;

use super::record::{note_variant, typed_slot, KeySeed, Kind, Place, Scratch, Wanted};
use crate::coerce::{Slot, Val};

/// Below serde_json's recursion limit (128), so nothing it would refuse gets through.
const MAX_DEPTH: u32 = 100;

/// Reads one record; `None` means "use the serde path" (the scratch is then reset by it).
pub(crate) fn scan_record<'a>(
    text: &'a [u8],
    wanted: &Wanted,
    out: &mut Scratch<'a>,
) -> Option<()> {
    let mut s = Scanner::new(text, Breaks::Space);
    s.skip_space();
    let start = s.pos;
    s.pos += scan_record_prefix(text.get(start..)?, Breaks::Space, wanted, out)?;
    s.skip_space();
    (s.pos == text.len()).then_some(())
}

/// What a line break inside a record is: white space as JSON has it (a JSON array's
/// elements), or the end of the record (NDJSON, where a record is one line).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    Space,
    End,
}

/// Reads the record object `text` starts with (no white space before it) and gives its
/// length: what follows it is not looked at. `None` as for [`scan_record`], and also for
/// an object that does not end within `text` (or, with [`Breaks::End`], within its line).
pub(crate) fn scan_record_prefix<'a>(
    text: &'a [u8],
    breaks: Breaks,
    wanted: &Wanted,
    out: &mut Scratch<'a>,
) -> Option<usize> {
    if wanted.is_all() {
        return None;
    }
    out.reset();
    let mut s = Scanner::new(text, breaks);
    s.expect(b'{')?;
    s.skip_space();
    if s.eat(b'}') {
        return Some(s.pos);
    }
    // A repeated `user_attributes` or `user_attribute_timestamps` replaces the earlier
    // one whole: rare, so it is left to the serde path rather than undone here.
    let (mut seen_attributes, mut seen_times) = (false, false);
    loop {
        let key = s.key()?;
        match KeySeed::new(wanted, Place::Top).kind(key) {
            Kind::Mpid => out.mpid = Some(s.value_slot()?),
            Kind::UpdatedAt if wanted.wants_times() => out.updated_at = Some(s.value_slot()?),
            Kind::LastStored if wanted.wants_times() => out.last_stored = Some(s.value_slot()?),
            Kind::Timestamps if wanted.wants_times() => {
                if std::mem::replace(&mut seen_times, true) {
                    return None;
                }
                s.times(wanted, out)?;
            }
            Kind::Wanted(i) => out.flat.put(i, s.wanted_slot(wanted.keeps_text(i))?),
            Kind::Variant => {
                let value = s.value_slot()?;
                note_variant(&mut out.flat_variant, variant_name(key)?, &value);
            }
            Kind::UserAttributes => {
                if std::mem::replace(&mut seen_attributes, true) {
                    return None;
                }
                out.has_api = s.attributes(wanted, out)?;
            }
            Kind::Any => return None,
            Kind::Other | Kind::UpdatedAt | Kind::LastStored | Kind::Timestamps => {
                s.skip_member_value(1)?;
            }
        }
        if !s.next_member()? {
            return Some(s.pos);
        }
    }
}

struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
    breaks: Breaks,
}

// The small readers called for every key and value are inlined: a call leaves the
// position in memory, and on wasm32 a result that does not fit one value travels through
// memory too. Inlining them cut a wasm preview's instructions by 14%, and natively the
// reader's by 9% (10k to 1M profiles: the preview 3 to 15% faster).
impl<'a> Scanner<'a> {
    fn new(text: &'a [u8], breaks: Breaks) -> Self {
        Scanner {
            text,
            pos: 0,
            breaks,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_space(&mut self) {
        // Most records have no white space between tokens: one test, inline.
        if let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.skip_more_space();
        }
    }

    #[inline(never)]
    fn skip_more_space(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                // Left in place as the record's end, where no token may stand.
                Some(b'\n') if self.breaks == Breaks::Space => self.pos += 1,
                _ => return,
            }
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += found as usize;
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// After a member's value: true at `,` (another member follows), false at `}`.
    fn next_member(&mut self) -> Option<bool> {
        self.skip_space();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.skip_space();
                Some(true)
            }
            b'}' => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A member's key and its colon; the raw bytes, which hold no escape.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a [u8]> {
        let key = self.string()?;
        self.skip_space();
        self.expect(b':')?;
        self.skip_space();
        Some(key)
    }

    /// A string without escapes: its body, between the quotes.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = string_end(self.text, start)?;
        self.pos = end + 1;
        self.text.get(start..end)
    }

    /// [`Scanner::skip_value`] with its commonest cases, strings and numbers, inline: most
    /// skipped members are one or the other, and this spares them a call.
    #[inline(always)]
    fn skip_member_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.number().map(drop),
            _ => self.skip_value(depth),
        }
    }

    /// Skips one value of any kind, checking its syntax.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                if self.enter(b'}', depth)? {
                    return Some(());
                }
                loop {
                    self.key()?;
                    self.skip_member_value(depth + 1)?;
                    if !self.next_member()? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                if self.enter(b']', depth)? {
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.skip_space();
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            self.skip_space();
                        }
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// Steps into the object or array that starts here, unless it is nested too deep;
    /// true when it closes at once.
    fn enter(&mut self, close: u8, depth: u32) -> Option<bool> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.skip_space();
        Some(self.eat(close))
    }

    /// `user_attributes` and `user_attribute_timestamps`: `None` to give up, `Some(None)`
    /// for null, `Some(Some(empty))` after stepping into an object.
    fn object_or_null(&mut self) -> Option<Option<bool>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b'{' => self.enter(b'}', 1).map(Some),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.text.get(self.pos..end)? == word).then_some(())?;
        self.pos = end;
        Some(())
    }

    /// A number by JSON's grammar: its text, how many digits it has, and whether it has
    /// a fraction or an exponent.
    #[inline(always)]
    fn number(&mut self) -> Option<Number<'a>> {
        let start = self.pos;
        self.eat(b'-');
        let int_start = self.pos;
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let int_digits = self.pos - int_start;
        let mut frac_digits = 0;
        let mut exponent = false;
        if self.eat(b'.') {
            let frac_start = self.pos;
            self.digits();
            frac_digits = self.pos - frac_start;
            if frac_digits == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let exp_start = self.pos;
            self.digits();
            if self.pos == exp_start {
                return None;
            }
            exponent = true;
        }
        Some(Number {
            text: self.text.get(start..self.pos)?,
            int_digits,
            frac_digits,
            exponent,
        })
    }

    /// Skips ASCII digits, eight at a time while it can.
    #[inline(always)]
    fn digits(&mut self) {
        const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
        const ZEROS: u64 = 0x3030_3030_3030_3030;
        while let Some(chunk) = self.text.get(self.pos..self.pos + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let v = u64::from_le_bytes(bytes);
            // A byte is a digit when it is 0x3_ and still 0x3_ plus 6. A carry only
            // leaves a byte at or above 0xFA, so the lowest flagged byte is always real.
            let flagged = ((v & HIGH_NIBBLES) ^ ZEROS)
                | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) ^ ZEROS);
            if flagged != 0 {
                self.pos += (flagged.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// A wanted value's slot, with its JSON text when `text` (see `Wanted::keeps_text`).
    #[inline(always)]
    fn wanted_slot(&mut self, text: bool) -> Option<Slot<'a>> {
        if text {
            self.raw_slot()
        } else {
            self.value_slot()
        }
    }

    /// A value with its exact JSON text, as the serde path's `RawValue` gives it.
    fn raw_slot(&mut self) -> Option<Slot<'a>> {
        let start = self.pos;
        if self.peek()? == b'"' {
            // What `Slot::from_json` makes of a string without escapes, without looking
            // for them again.
            self.string()?;
            let raw = std::str::from_utf8(self.text.get(start..self.pos)?).ok()?;
            let body = raw.strip_prefix('"')?.strip_suffix('"')?;
            return Some(Slot {
                val: Val::Str(Cow::Borrowed(body)),
                raw: Some(raw),
            });
        }
        self.skip_value(1)?;
        let raw = std::str::from_utf8(self.text.get(start..self.pos)?).ok()?;
        Some(Slot::from_json(raw))
    }

    /// A value typed as serde's `deserialize_any` types it.
    #[inline(always)]
    fn value_slot(&mut self) -> Option<Slot<'a>> {
        let val = match self.peek()? {
            b'"' => Val::Str(Cow::Borrowed(std::str::from_utf8(self.string()?).ok()?)),
            b't' => self.literal(b"true").map(|()| Val::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Val::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Val::Null)?,
            b'{' | b'[' => {
                let start = self.pos;
                self.skip_value(1)?;
                return by_serde(self.text.get(start..self.pos)?);
            }
            _ => {
                let number = self.number()?;
                match number.simple() {
                    Some(val) => val,
                    None => return by_serde(number.text),
                }
            }
        };
        Some(Slot { val, raw: None })
    }

    /// `user_attributes`: an object, or null (the same as absent). True when present.
    fn attributes(&mut self, wanted: &Wanted, out: &mut Scratch<'a>) -> Option<bool> {
        match self.object_or_null()? {
            None => return Some(false),
            Some(true) => return Some(true),
            Some(false) => {}
        }
        let seed = KeySeed::new(wanted, Place::Attributes);
        loop {
            let key = self.key()?;
            match seed.kind(key) {
                Kind::Wanted(i) => out.api.put(i, self.wanted_slot(wanted.keeps_text(i))?),
                Kind::Variant => {
                    let value = self.value_slot()?;
                    note_variant(&mut out.api_variant, variant_name(key)?, &value);
                }
                Kind::Any => return None,
                _ => self.skip_member_value(2)?,
            }
            if !self.next_member()? {
                return Some(true);
            }
        }
    }

    /// `user_attribute_timestamps`: an object, or null.
    fn times(&mut self, wanted: &Wanted, out: &mut Scratch<'a>) -> Option<()> {
        if self.object_or_null()? != Some(false) {
            return Some(());
        }
        let seed = KeySeed::new(wanted, Place::Timestamps);
        loop {
            let key = self.key()?;
            match seed.kind(key) {
                Kind::Wanted(i) if wanted.wants_time(i) => out.times.put(i, self.value_slot()?),
                Kind::Any => return None,
                _ => self.skip_member_value(2)?,
            }
            if !self.next_member()? {
                return Some(());
            }
        }
    }
}

/// A case variant of the source attribute's name, as the key spells it.
fn variant_name(key: &[u8]) -> Option<String> {
    std::str::from_utf8(key).ok().map(str::to_string)
}

/// A value the scanner does not type itself (arrays, objects, long or exponent numbers),
/// typed from its text exactly as the serde path types it.
#[cold]
#[inline(never)]
fn by_serde(text: &[u8]) -> Option<Slot<'_>> {
    typed_slot(std::str::from_utf8(text).ok()?).ok()
}

struct Number<'a> {
    text: &'a [u8],
    int_digits: usize,
    frac_digits: usize,
    exponent: bool,
}

/// Exact powers of ten (every one up to 10^22 is an f64 exactly).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

impl Number<'_> {
    /// The value serde_json gives, for the common forms: integers that fit in 64 bits
    /// (not `-0`), and decimals of up to 15 digits with no exponent, where both the
    /// digits and the power of ten are exact in an f64 and one division rounds.
    fn simple(&self) -> Option<Val<'static>> {
        let digits = self.int_digits + self.frac_digits;
        if self.exponent || digits > 20 || (self.frac_digits > 0 && digits > 15) {
            return None;
        }
        let negative = self.text.first() == Some(&b'-');
        let body = self.text.get(usize::from(negative)..)?;
        let significand = if digits == 20 {
            // Only integers get here; the one length that can pass u64::MAX.
            std::str::from_utf8(body).ok()?.parse::<u64>().ok()?
        } else {
            let int = append_digits(0, body.get(..self.int_digits)?);
            match self.frac_digits {
                0 => int,
                _ => append_digits(int, body.get(self.int_digits + 1..)?),
            }
        };
        if self.frac_digits > 0 {
            let x = significand as f64 / POW10.get(self.frac_digits)?;
            return Some(Val::Float(if negative { -x } else { x }));
        }
        if !negative {
            return Some(Val::UInt(significand));
        }
        // As serde_json: negative while it fits in an i64, else (and for `-0`) a float.
        let negated = (significand as i64).wrapping_neg();
        (negated < 0).then_some(Val::Int(negated))
    }
}

/// `value` followed by the decimal `digits` (ASCII digits only), eight at a time. The
/// caller keeps the total under 20 digits, so nothing overflows (and no overflow check
/// costs 32-bit targets a 128-bit multiplication).
fn append_digits(mut value: u64, digits: &[u8]) -> u64 {
    let mut chunks = digits.chunks_exact(8);
    for chunk in &mut chunks {
        let eight = chunk.try_into().map_or(0, u64::from_le_bytes);
        value = value
            .wrapping_mul(100_000_000)
            .wrapping_add(eight_digits(eight));
    }
    for &b in chunks.remainder() {
        value = value
            .wrapping_mul(10)
            .wrapping_add(u64::from(b.wrapping_sub(b'0')));
    }
    value
}

/// The value of eight ASCII digits read little-endian (the first digit in the lowest
/// byte): pairs, then quads, then all eight, with three multiplications.
fn eight_digits(bytes: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    let v = bytes.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & MASK)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

/// The index of the closing quote of a string body starting at `start`, or `None` at a
/// backslash, a control character or the end of the input.
#[inline(always)]
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let end = start + plain_run(text, start);
    (text.get(end) == Some(&b'"')).then_some(end)
}

/// How many bytes from `start` on are plain string bytes: up to the first quote,
/// backslash or control character (or the end). Eight bytes at a time.
#[inline(always)]
pub(super) fn plain_run(text: &[u8], start: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = start;
    while let Some(chunk) = text.get(i..i + 8) {
        let v = chunk.try_into().map_or(0, u64::from_le_bytes);
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        // The classic "has a zero byte" and "has a byte below n" tests: the lowest flagged
        // byte is always a real match (false flags only sit above a real one).
        let flagged = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (v.wrapping_sub(ONES * 0x20) & !v);
        let flagged = flagged & HIGHS;
        if flagged != 0 {
            return i - start + (flagged.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = text.get(i) {
        if matches!(b, b'"' | b'\\' | 0..=0x1f) {
            break;
        }
        i += 1;
    }
    i.saturating_sub(start)
}

/// For tests and fuzzing: reads one record by the scanner and by the serde path, with a
/// few sets of wanted attributes, and describes the first disagreement. `Ok(true)` when the
/// scanner took the record at least once (it may leave any record to serde).
#[doc(hidden)]
pub fn check_against_serde(text: &[u8]) -> Result<bool, String> {
    // Names, the ones timed, and whether every value keeps its text (audiences).
    let sets: [(&[&str], &[&str], bool); 5] = [
        (&["k", "b", "s", "a", "l"], &["l"], false),
        (
            &["$address", "has_dog", "ltv", "visits", "country"],
            &["country"],
            false,
        ),
        (&["$address", "ltv"], &[], false),
        (&["Key", "k", "mpid"], &["k"], false),
        (&["k", "b", "s", "a", "l"], &[], true),
    ];
    let mut scanned = false;
    for (names, timed, texts) in sets {
        let wanted = Wanted::new(names.iter().map(|n| n.to_string()))
            .with_times(timed.iter().map(|n| n.to_string()));
        let wanted = if texts { wanted.with_texts() } else { wanted };
        let mut fast = Scratch::new(&wanted);
        if scan_record(text, &wanted, &mut fast).is_none() {
            continue;
        }
        scanned = true;
        let mut slow = Scratch::new(&wanted);
        match super::record::parse_json_record(text, &wanted, &mut slow) {
            Ok(()) if fast == slow => {}
            Ok(()) => return Err(format!("scanner read {fast:?}, serde read {slow:?}")),
            Err(e) => return Err(format!("scanner took a record serde refuses: {e}")),
        }
    }
    Ok(scanned)
}

#[cfg(test)]
mod tests {
    use super::{append_digits, string_end};

    #[test]
    fn digits_eight_at_a_time_equal_one_at_a_time() {
        for text in [
            "0",
            "7",
            "12345678",
            "123456789",
            "9999999999999999",
            "9999999999999999999",
            "00000001",
            "1698003310871",
            "4329322789400458631",
        ] {
            let value = append_digits(0, text.as_bytes());
            assert_eq!(Some(value), text.parse::<u64>().ok(), "{text}");
        }
        assert_eq!(append_digits(12, b"34"), 1234);
    }

    #[test]
    fn string_end_finds_the_quote_and_refuses_escapes_and_controls() {
        for len in 0..20 {
            let body = "é".repeat(len / 2) + &"a".repeat(len % 2);
            let text = format!("{body}\" tail");
            assert_eq!(string_end(text.as_bytes(), 0), Some(body.len()));
            for bad in ["\\", "\n", "\u{1f}"] {
                let text = format!("{body}{bad}x\"");
                assert_eq!(string_end(text.as_bytes(), 0), None, "{text:?}");
            }
        }
        assert_eq!(string_end(b"no end", 0), None);
        assert_eq!(string_end(b"0123456789abcdef", 0), None);
    }
}

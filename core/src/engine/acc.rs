//! Accumulators: one per group attribute and key, 24 bytes each. A large preview keeps
//! hundreds of thousands of key rows, far more than any cache holds, and each record
//! updates one row at a random place: the fewer cache lines a row spans, the fewer a
//! record waits for (and the less fresh memory the rows take).

use crate::definition::Aggregation;
use crate::timestamp::Nanos;

/// Bytes of JSON text a `latest` value keeps inside its accumulator (codes, flags and
/// small numbers fit); longer text lives in [`LongTexts`].
const INLINE: usize = 10;
/// `len` of a `latest` accumulator whose text is in [`LongTexts`], its number in `text`.
const LONG: u8 = u8::MAX;

/// A key's running value of one group attribute. Not `Copy`: a `latest` accumulator
/// with long text owns its number in [`LongTexts`].
#[derive(Clone, Debug)]
pub(super) enum Acc {
    Or(bool),
    /// Sum and count of the usable values (sum and average), and the sum again with each
    /// value scaled by 2^-64: it cannot overflow, so a total or mean that a double holds
    /// is still found when a running sum passed the double range on the way.
    Num {
        count: u32,
        sum: f64,
        scaled: f64,
    },
    /// The newest value's JSON text and its time, split into whole seconds and the
    /// nanoseconds past them (ordered as the time is, without an `i128`'s 16 bytes and
    /// 16-byte alignment). `len` 0: no value yet; [`LONG`]: the text is in [`LongTexts`].
    /// A value without a time has the lowest time, older than any real one.
    Latest {
        len: u8,
        text: [u8; INLINE],
        nanos: u32,
        secs: i64,
    },
}

const _: () = assert!(std::mem::size_of::<Acc>() == 24);

/// `latest` texts longer than [`INLINE`] bytes, by number. A key keeps at most one per
/// attribute: a newer long value takes its place, and a number freed (by a short value,
/// or a key that grew too large) is given to the next long text.
#[derive(Debug, Default)]
pub(super) struct LongTexts {
    texts: Vec<Box<[u8]>>,
    free: Vec<u32>,
}

/// A `latest` value's time as (whole seconds, nanoseconds past them), ordered as the time
/// is; no time is the lowest of all.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) struct Stamp(i64, u32);

impl Stamp {
    pub fn of(time: Option<Nanos>) -> Stamp {
        const NANOS: i64 = 1_000_000_000;
        match time {
            // Most times fit 64 bits of nanoseconds: no 128-bit division for them.
            Some(t) => match i64::try_from(t) {
                Ok(t) => Stamp(t.div_euclid(NANOS), t.rem_euclid(NANOS) as u32),
                // Every time `parse_time` gives is within ±2^63 seconds; saturate regardless.
                Err(_) => Stamp(
                    i64::try_from(t.div_euclid(NANOS.into())).unwrap_or(if t < 0 {
                        i64::MIN
                    } else {
                        i64::MAX
                    }),
                    t.rem_euclid(NANOS.into()) as u32,
                ),
            },
            None => Stamp(i64::MIN, 0),
        }
    }
}

/// 2^-64 and 2^64: scaling by a power of two is exact (bar values under 2^-958, which
/// matter only when the plain sum overflowed).
const DOWN: f64 = 1.0 / 18_446_744_073_709_551_616.0;
const UP: f64 = 18_446_744_073_709_551_616.0;

impl Acc {
    /// For sum and average: takes a usable value.
    pub fn add(&mut self, x: f64) {
        if let Acc::Num { count, sum, scaled } = self {
            *sum += x;
            *scaled += x * DOWN;
            *count += 1;
        }
    }

    /// For sum and average: the total, or the mean; `None` without a value, and also
    /// when the result itself is beyond a double.
    pub fn total(&self, mean: bool) -> Option<f64> {
        let Acc::Num { count, sum, scaled } = *self else {
            return None;
        };
        if count == 0 {
            return None;
        }
        let divisor = if mean { f64::from(count) } else { 1.0 };
        let result = if sum.is_finite() {
            sum / divisor
        } else {
            scaled / divisor * UP
        };
        result.is_finite().then_some(result)
    }

    pub fn new(aggregation: Aggregation) -> Acc {
        match aggregation {
            Aggregation::BooleanOr => Acc::Or(false),
            Aggregation::Sum | Aggregation::Average => Acc::Num {
                count: 0,
                sum: 0.0,
                scaled: 0.0,
            },
            Aggregation::Latest => Acc::Latest {
                len: 0,
                text: [0; INLINE],
                nanos: 0,
                secs: i64::MIN,
            },
        }
    }

    /// Reads its first and last fields, so that updating it finds it in cache (see
    /// `Engine::batch`). The result means nothing.
    pub fn warm(&self) -> u64 {
        match *self {
            Acc::Or(any) => u64::from(any),
            Acc::Num { count, sum, .. } => sum.to_bits() ^ u64::from(count),
            Acc::Latest { len, secs, .. } => u64::from(len) ^ secs as u64,
        }
    }

    /// For `latest`: true when a value at `time` replaces the one held (newest wins; on a
    /// tie the later record wins; a value without a time only replaces another without).
    pub fn takes(&self, time: Stamp) -> bool {
        match *self {
            Acc::Latest { nanos, secs, .. } => time >= Stamp(secs, nanos),
            _ => false,
        }
    }

    /// For `latest`: holds `json` as the newest value, at `time`.
    pub fn set_latest(&mut self, time: Stamp, json: &[u8], long: &mut LongTexts) {
        let Acc::Latest {
            len,
            text,
            nanos,
            secs,
        } = self
        else {
            return;
        };
        let held = (*len == LONG).then(|| long_number(text));
        if let (Some(short), Ok(n)) = (text.get_mut(..json.len()), u8::try_from(json.len())) {
            if let Some(number) = held {
                long.free(number);
            }
            short.copy_from_slice(json);
            *len = n;
        } else if let Some(place) = held.and_then(|number| long.texts.get_mut(number)) {
            *place = json.into();
        } else {
            // More than 2^32 long texts cannot be numbered: keep the value held.
            let Some(number) = long.store(json) else {
                return;
            };
            *text = [0; INLINE];
            if let Some(at) = text.get_mut(..4) {
                at.copy_from_slice(&number.to_le_bytes());
            }
            *len = LONG;
        }
        Stamp(*secs, *nanos) = time;
    }

    /// For `latest`: the newest value's JSON text, if there is one.
    pub fn latest<'a>(&'a self, long: &'a LongTexts) -> Option<&'a [u8]> {
        match self {
            Acc::Latest { len: 0, .. } => None,
            Acc::Latest {
                len: LONG, text, ..
            } => long.texts.get(long_number(text)).map(|t| &**t),
            Acc::Latest { len, text, .. } => text.get(..usize::from(*len)),
            _ => None,
        }
    }

    /// Back to no value (for a key that passed ten members and will inherit nothing).
    pub fn clear(&mut self, aggregation: Aggregation, long: &mut LongTexts) {
        if let Acc::Latest {
            len: LONG, text, ..
        } = self
        {
            long.free(long_number(text));
        }
        *self = Acc::new(aggregation);
    }
}

impl LongTexts {
    /// Keeps a text under a free number, or a new one; `None` past 2^32 numbers.
    fn store(&mut self, json: &[u8]) -> Option<u32> {
        if let Some(number) = self.free.pop() {
            if let Some(place) = self.texts.get_mut(number as usize) {
                *place = json.into();
                return Some(number);
            }
        }
        let number = u32::try_from(self.texts.len()).ok()?;
        self.texts.push(json.into());
        Some(number)
    }

    /// Frees a text no accumulator holds any more; its number goes to the next one.
    fn free(&mut self, number: usize) {
        if let Some(place) = self.texts.get_mut(number) {
            *place = Box::default();
            self.free.extend(u32::try_from(number).ok());
        }
    }
}

fn long_number(text: &[u8; INLINE]) -> usize {
    let [a, b, c, d, ..] = *text;
    u32::from_le_bytes([a, b, c, d]) as usize
}

#[cfg(test)]
mod tests {
    use super::{Acc, LongTexts, Stamp, INLINE};
    use crate::definition::Aggregation;

    #[test]
    fn latest_keeps_short_text_inline_and_long_text_aside() {
        let mut long = LongTexts::default();
        let mut acc = Acc::new(Aggregation::Latest);
        assert_eq!(acc.latest(&long), None);
        let values = [
            "\"US\"",
            "\"exactly10\"",
            "\"a longer value than fits inline\"",
            "\"another long value, in the same place\"",
            "true",
            "\"long once more, in a new place\"",
        ];
        for (i, value) in values.iter().enumerate() {
            let at = Stamp::of(Some(i as i128));
            assert!(acc.takes(at));
            acc.set_latest(at, value.as_bytes(), &mut long);
            assert_eq!(acc.latest(&long), Some(value.as_bytes()), "{value}");
            let inline = !matches!(acc, Acc::Latest { len: u8::MAX, .. });
            assert_eq!(inline, value.len() <= INLINE, "{value}");
        }
        // Long texts replaced by short ones are freed, and their numbers taken again: one
        // place for the whole run.
        assert_eq!(long.texts.len(), 1);
        acc.clear(Aggregation::Latest, &mut long);
        assert_eq!(acc.latest(&long), None);
        assert!(long.texts.iter().all(|t| t.is_empty()));
        assert_eq!(long.free, [0]);
    }

    #[test]
    fn latest_orders_times_as_nanoseconds_do() {
        let times = [
            None,
            Some(i128::MIN),
            Some(i128::from(i64::MIN) * 1_000_000),
            Some(i128::from(i64::MIN) - 1),
            Some(i128::from(i64::MIN)),
            Some(-1_500_000_001),
            Some(-1),
            Some(0),
            Some(1),
            Some(1_999_999_999),
            Some(2_000_000_000),
            Some(i128::from(i64::MAX)),
            Some(i128::from(i64::MAX) + 1),
            Some(i128::from(u64::MAX) * 1_000_000),
            // Beyond any time `parse_time` gives: saturated, still in order.
            Some(i128::MAX),
        ];
        for (i, &held) in times.iter().enumerate() {
            let mut acc = Acc::new(Aggregation::Latest);
            acc.set_latest(Stamp::of(held), b"1", &mut LongTexts::default());
            for (j, &offered) in times.iter().enumerate() {
                let takes = acc.takes(Stamp::of(offered));
                assert_eq!(takes, j >= i, "{held:?} then {offered:?}");
            }
        }
    }
}

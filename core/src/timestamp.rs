//! Times used by `latest`: RFC 3339 strings or epoch milliseconds (SPEC section 3).

use crate::coerce::Val;

/// Nanoseconds since the Unix epoch: fine enough for RFC 3339 fractions, wide enough for
/// any epoch-millisecond value.
pub type Nanos = i128;

/// A value that is neither an RFC 3339 string nor epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTime;

/// Reads a time. `Ok(None)` for null; [`InvalidTime`] for a value that is not a time.
/// Accepted: RFC 3339 strings (any offset), integer epoch milliseconds as a number or as
/// a string of digits (exports often quote them).
pub fn parse_time(val: &Val<'_>) -> Result<Option<Nanos>, InvalidTime> {
    match val {
        Val::Null => Ok(None),
        Val::Num(text) => epoch_millis(text).map(Some),
        Val::Int(ms) => Ok(Some(millis_to_nanos(*ms))),
        Val::UInt(ms) => Ok(Some(match i64::try_from(*ms) {
            Ok(ms) => millis_to_nanos(ms),
            Err(_) => i128::from(*ms) * 1_000_000,
        })),
        Val::Float(ms) => float_millis(*ms).map(Some),
        Val::Str(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return epoch_millis(s).map(Some);
            }
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(|t| Some(t.unix_timestamp_nanos()))
                .map_err(|_| InvalidTime)
        }
        _ => Err(InvalidTime),
    }
}

/// In 64 bits while the product fits (every date of the next few centuries), which spares
/// 32-bit targets a 128-bit multiplication.
fn millis_to_nanos(ms: i64) -> Nanos {
    match ms.checked_mul(1_000_000) {
        Some(nanos) => Nanos::from(nanos),
        None => Nanos::from(ms) * 1_000_000,
    }
}

fn epoch_millis(text: &str) -> Result<Nanos, InvalidTime> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(millis_to_nanos(ms));
    }
    // Fractional or exponent forms such as 1.7e12 are still milliseconds.
    text.parse::<f64>()
        .map_err(|_| InvalidTime)
        .and_then(float_millis)
}

/// Milliseconds held by a double, to the nanosecond. The whole milliseconds convert
/// exactly and only the fraction is scaled: `ms * 1e6` alone would round to a multiple of
/// 256 ns at today's dates, so `1704164645678.0` would not tie with `1704164645678`.
fn float_millis(ms: f64) -> Result<Nanos, InvalidTime> {
    if !ms.is_finite() || ms.abs() >= 1e17 {
        return Err(InvalidTime);
    }
    let whole = ms.trunc();
    // Both exact: `whole` is an integer below 2^63, and `ms - whole` loses no bits.
    let fraction = ((ms - whole) * 1e6).round();
    Ok(whole as i128 * 1_000_000 + fraction as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_agree() {
        let a = parse_time(&Val::Str("2024-01-02T03:04:05.678Z".into()));
        let b = parse_time(&Val::Num("1704164645678"));
        assert_eq!(a, b);
        let c = parse_time(&Val::Str("2024-01-02T04:04:05.678+01:00".into()));
        assert_eq!(a, c);
        assert_eq!(parse_time(&Val::Str("yesterday".into())), Err(InvalidTime));
        assert_eq!(parse_time(&Val::Null), Ok(None));
        // Past 64 bits of nanoseconds, still exact.
        for ms in [i64::MAX, i64::MIN, 9_300_000_000_000, -9_300_000_000_000] {
            assert_eq!(
                parse_time(&Val::Int(ms)),
                Ok(Some(i128::from(ms) * 1_000_000))
            );
        }
        assert_eq!(
            parse_time(&Val::UInt(u64::MAX)),
            Ok(Some(i128::from(u64::MAX) * 1_000_000))
        );
    }

    #[test]
    fn milliseconds_written_as_doubles_tie_with_the_same_instant() {
        let exact = parse_time(&Val::Int(1_704_164_645_678));
        for same in [
            Val::Float(1_704_164_645_678.0),
            Val::Num("1.704164645678e12"),
            Val::Num("1704164645678.000"),
            Val::Str("2024-01-02T03:04:05.678Z".into()),
        ] {
            assert_eq!(parse_time(&same), exact, "{same:?}");
        }
        // A fraction a double holds exactly counts exactly.
        assert_eq!(
            parse_time(&Val::Float(1_704_164_645_678.5)),
            parse_time(&Val::Str("2024-01-02T03:04:05.6785Z".into()))
        );
        assert_eq!(parse_time(&Val::Float(-1.25)), Ok(Some(-1_250_000)));
        assert_eq!(parse_time(&Val::Float(1e17)), Err(InvalidTime));
        assert_eq!(parse_time(&Val::Float(f64::NAN)), Err(InvalidTime));
    }
}

//! Properties of the preview engine over generated and hand-built inputs:
//! (a) any chunking of the input gives the one-shot preview, (b) the stats add up,
//! (c) the order of records changes only the order of the output, (d) CSV and NDJSON of
//! the same flat string profiles agree, (e) the output is deterministic.

use std::collections::BTreeMap;
use std::sync::Arc;

use group_identity::profiles::Mpid;

use group_identity::generator::{
    definition_for_generated, generate, rfc3339, GeneratorOptions, CSV_COLUMNS as COLUMNS,
};
use group_identity::{
    check_threaded, preview_groups, Format, GroupDefinition, Preview, PreviewOptions,
    PreviewSession,
};
use proptest::prelude::*;

mod support;
use proptest::sample::Index;
use serde_json::{json, Value};
use support::check_stats;

/// `PreviewOptions::max_listed` by default.
const LISTED: usize = 1000;

// ---------------------------------------------------------------------------------------
// Helpers

fn options(format: Format) -> PreviewOptions {
    PreviewOptions {
        format,
        max_diagnostics: 100_000,
        ..PreviewOptions::default()
    }
}

fn generated(seed: u64, profiles: usize, format: Format, flat: bool, edge: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let options = GeneratorOptions {
        flat,
        edge_cases: edge,
        ..GeneratorOptions::new(seed, profiles, format)
    };
    generate(&options, &mut out);
    out
}

fn pushed_at(
    def: &GroupDefinition,
    bytes: &[u8],
    options: &PreviewOptions,
    cuts: &[usize],
) -> Preview {
    let mut session = PreviewSession::new(def, options);
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, bytes.len());
        session.push(&bytes[start..cut]);
        start = cut;
    }
    session.push(&bytes[start..]);
    assert_eq!(session.bytes_read(), bytes.len() as u64);
    session.finish()
}

/// Reads `bytes` on two or three threads, in blocks of a size the first random index
/// picks (any size, one byte included), grouped in turn: the same preview as one thread.
fn on_threads(
    def: &GroupDefinition,
    bytes: &[u8],
    options: &PreviewOptions,
    random: &[Index],
) -> Result<(), String> {
    let block = random.first().map_or(1, |i| i.index(bytes.len() + 2));
    check_threaded(def, bytes, options, block, 2 + block % 2)
}

/// Split points: random ones, plus ones inside multi-byte UTF-8 characters and right
/// after a quote (inside a quoted CSV cell or JSON string).
fn cuts(bytes: &[u8], random: &[Index], awkward: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = random.iter().map(|i| i.index(bytes.len() + 1)).collect();
    let special: Vec<usize> = (1..bytes.len())
        .filter(|&i| bytes[i] & 0xC0 == 0x80 || bytes[i - 1] == b'"')
        .collect();
    if !special.is_empty() {
        cuts.extend(awkward.iter().map(|i| special[i.index(special.len())]));
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Groups as an order-free map: key to (sorted members, attributes).
type Canon = BTreeMap<String, (Vec<Mpid>, Vec<(Arc<str>, Value)>)>;

fn canonical(p: &Preview) -> Canon {
    p.groups
        .iter()
        .map(|g| {
            let mut members = g.members.clone();
            members.sort();
            (g.key.clone(), (members, g.attributes.0.clone()))
        })
        .collect()
}

fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => {
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

/// Equal groups; numbers may differ by rounding when `exact` is false (a float sum
/// depends on the order of its terms).
fn assert_same_groups(a: &Preview, b: &Preview, exact: bool) {
    let (ca, cb) = (canonical(a), canonical(b));
    if exact {
        assert_eq!(ca, cb);
        return;
    }
    assert_eq!(ca.keys().collect::<Vec<_>>(), cb.keys().collect::<Vec<_>>());
    for (key, (ma, aa)) in &ca {
        let (mb, ab) = &cb[key];
        assert_eq!(ma, mb, "members of {key:?}");
        assert_eq!(
            aa.len(),
            ab.len(),
            "attributes of {key:?}: {aa:?} vs {ab:?}"
        );
        for ((na, va), (nb, vb)) in aa.iter().zip(ab) {
            assert_eq!(na, nb);
            assert!(close(va, vb), "{key:?} {na}: {va} vs {vb}");
        }
    }
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Everything but order: groups, oversized, singletons, short keys, stats and the
/// diagnostics as a multiset of (code, mpid, attribute).
fn assert_same_but_order(a: &Preview, b: &Preview, exact: bool) {
    assert_eq!(a.stats, b.stats);
    assert_same_groups(a, b, exact);
    let over = |p: &Preview| {
        sorted(
            &p.oversized
                .iter()
                .map(|o| (o.key.clone(), o.size))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(over(a), over(b));
    let single = |p: &Preview| {
        sorted(
            &p.singletons
                .iter()
                .map(|s| (s.key.clone(), s.mpid.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(single(a), single(b));
    let short = |p: &Preview| {
        sorted(
            &p.short_keys
                .iter()
                .map(|k| (k.key.clone(), k.count))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(short(a), short(b));
    let diag = |p: &Preview| {
        sorted(
            &p.diagnostics
                .iter()
                .map(|d| (d.code.clone(), d.mpid.clone(), d.attribute.clone()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(diag(a), diag(b));
}

fn format_strategy() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Ndjson), Just(Format::Json), Just(Format::Csv)]
}

// ---------------------------------------------------------------------------------------
// Hand-built records

const ADDRESSES: &[&str] = &[
    "12 Main St, Springfield",
    "7 \"Old Mill\" Road",
    "Straße 9 🏠",
    "1 Elm Street",
    "Calle Peña 3, 2º B",
    "abcd",
    "",
];

#[derive(Clone, Debug)]
struct Rec {
    address: Option<Value>,
    has_dog: Option<Value>,
    ltv: Option<Value>,
    visits: Option<Value>,
    country: Option<Value>,
    /// How the record's time is given: per attribute (RFC 3339 or ms) or `updated_at`.
    time_form: u8,
}

fn value_of(choices: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(
        0.8,
        prop::sample::select(choices)
            .prop_map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::Null)),
    )
}

fn rec_strategy(addresses: usize) -> impl Strategy<Value = Rec> {
    let address = prop_oneof![
        8 => prop::sample::select(&ADDRESSES[..addresses.min(ADDRESSES.len())]).prop_map(|a| json!(a)),
        1 => prop::sample::select(&["12345", "true", "[\"a\"]", "{\"s\":1}", "null"][..])
            .prop_map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::Null)),
    ];
    (
        prop::option::weighted(0.9, address),
        value_of(&[
            "true",
            "false",
            "\"TRUE\"",
            "\" false \"",
            "\"maybe\"",
            "1",
            "null",
        ]),
        // Multiples of 1/4: sums are exact in any order.
        value_of(&[
            "1",
            "2.5",
            "\"3\"",
            "\"-0.25\"",
            "\"1e3\"",
            "\"lots\"",
            "0.5",
            "null",
        ]),
        value_of(&["0", "7", "\"12\"", "true", "null", "3.75"]),
        value_of(&[
            "\"US\"",
            "\"DE\"",
            "\"Österreich\"",
            "{\"c\":\"FR\"}",
            "12",
            "null",
        ]),
        0u8..3,
    )
        .prop_map(|(address, has_dog, ltv, visits, country, time_form)| Rec {
            address,
            has_dog,
            ltv,
            visits,
            country,
            time_form,
        })
}

/// Records with unique mpids and distinct times, fixed before any shuffle.
fn to_json(recs: &[Rec]) -> Vec<Value> {
    recs.iter()
        .enumerate()
        .map(|(i, r)| {
            let mut o = serde_json::Map::new();
            // Negative and beyond 2^53 mpids, unique by index.
            o.insert(
                "mpid".into(),
                json!((i as i64)
                    .wrapping_mul(1_000_000_007_000_003)
                    .wrapping_sub(9_000_000_000_000_000_000)),
            );
            for (k, v) in [
                ("$address", &r.address),
                ("has_dog", &r.has_dog),
                ("ltv", &r.ltv),
                ("visits", &r.visits),
                ("country", &r.country),
            ] {
                if let Some(v) = v {
                    o.insert(k.into(), v.clone());
                }
            }
            let ms = 1_700_000_000_000_i64 + i as i64 * 1_001;
            match r.time_form {
                0 => o.insert(
                    "user_attribute_timestamps".into(),
                    json!({"country": rfc3339(ms, 60)}),
                ),
                1 => o.insert("user_attribute_timestamps".into(), json!({"country": ms})),
                _ => o.insert("updated_at".into(), json!(rfc3339(ms, 0))),
            };
            Value::Object(o)
        })
        .collect()
}

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// NDJSON with some lines that are not profiles, blank lines and CRLF.
fn messy_ndjson() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => (rec_strategy(5), prop::option::weighted(0.9, 0i64..40)).prop_map(|(r, mpid)| {
            let mut v = to_json(std::slice::from_ref(&r)).remove(0);
            match (mpid, v.as_object_mut()) {
                (Some(m), Some(o)) => {
                    o.insert("mpid".into(), if m % 3 == 0 { json!(m.to_string()) } else { json!(m) });
                }
                (None, Some(o)) => {
                    o.remove("mpid");
                }
                _ => {}
            }
            v.to_string()
        }),
        1 => prop::sample::select(&["", "  ", "not json", "[1,2]", "{\"mpid\":", "\"é\"", "{\"user_attributes\":{\"$address\":\"1 Elm Street\"},\"mpid\":99}"][..])
            .prop_map(str::to_owned),
    ];
    (prop::collection::vec(line, 0..40), any::<bool>()).prop_map(|(lines, crlf)| {
        let newline = if crlf { "\r\n" } else { "\n" };
        lines.join(newline)
    })
}

// ---------------------------------------------------------------------------------------
// (a), (b), (e) over generated exports

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn generated_any_split_equals_one_shot(
        seed in any::<u64>(),
        profiles in 0usize..120,
        format in format_strategy(),
        flat in any::<bool>(),
        edge in any::<bool>(),
        random in prop::collection::vec(any::<Index>(), 0..12),
        awkward in prop::collection::vec(any::<Index>(), 0..6),
    ) {
        let def = definition_for_generated();
        let bytes = generated(seed, profiles, format, flat, edge);
        for named in [Format::Auto, format] {
            let options = options(named);
            let whole = preview_groups(&def, &bytes, &options);
            prop_assert_eq!(whole.format, format);
            check_stats(&whole, LISTED);
            let cuts = cuts(&bytes, &random, &awkward);
            prop_assert_eq!(&pushed_at(&def, &bytes, &options, &cuts), &whole, "cuts {:?}", cuts);
            prop_assert_eq!(on_threads(&def, &bytes, &options, &random), Ok(()));
            // (e) the same input again gives the same bytes out.
            let again = preview_groups(&def, &bytes, &options);
            prop_assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&whole).unwrap());
        }
    }

    #[test]
    fn generated_one_byte_chunks_equal_one_shot(
        seed in any::<u64>(),
        profiles in 0usize..25,
        format in format_strategy(),
        edge in any::<bool>(),
    ) {
        let def = definition_for_generated();
        let bytes = generated(seed, profiles, format, false, edge);
        let options = options(Format::Auto);
        let whole = preview_groups(&def, &bytes, &options);
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(pushed_at(&def, &bytes, &options, &every), whole);
    }

    #[test]
    fn messy_ndjson_any_split_equals_one_shot(
        input in messy_ndjson(),
        random in prop::collection::vec(any::<Index>(), 0..8),
        awkward in prop::collection::vec(any::<Index>(), 0..4),
        normalize in any::<bool>(),
    ) {
        let def = definition_for_generated();
        let options = PreviewOptions { normalize_keys: normalize, ..options(Format::Auto) };
        let bytes = input.as_bytes();
        let whole = preview_groups(&def, bytes, &options);
        check_stats(&whole, LISTED);
        let cuts = cuts(bytes, &random, &awkward);
        prop_assert_eq!(pushed_at(&def, bytes, &options, &cuts), whole.clone());
        prop_assert_eq!(preview_groups(&def, bytes, &options), whole);
        prop_assert_eq!(on_threads(&def, bytes, &options, &random), Ok(()));
    }
}

// ---------------------------------------------------------------------------------------
// (c) shuffling changes only order

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn shuffled_records_give_the_same_groups(
        (records, shuffled) in prop::collection::vec(rec_strategy(6), 0..60)
            .prop_flat_map(|recs| {
                let json = to_json(&recs);
                (Just(json.clone()), Just(json).prop_shuffle())
            }),
        as_array in any::<bool>(),
    ) {
        let def = definition_for_generated();
        let render = |r: &[Value]| if as_array {
            serde_json::to_string_pretty(&r).unwrap()
        } else {
            lines(r)
        };
        let a = preview_groups(&def, render(&records).as_bytes(), &options(Format::Auto));
        let b = preview_groups(&def, render(&shuffled).as_bytes(), &options(Format::Auto));
        check_stats(&a, LISTED);
        assert_same_but_order(&a, &b, true);
    }

    #[test]
    fn shuffled_generated_lines_give_the_same_groups(
        seed in any::<u64>(),
        profiles in 0usize..200,
        flat in any::<bool>(),
        order in any::<u64>(),
    ) {
        // Without edge cases every mpid is unique and every time distinct, so only the
        // order of the output may change (and float sums by rounding).
        let def = definition_for_generated();
        let bytes = generated(seed, profiles, Format::Ndjson, flat, false);
        let text = String::from_utf8(bytes).unwrap();
        let mut rows: Vec<&str> = text.lines().collect();
        fastrand::Rng::with_seed(order).shuffle(&mut rows);
        let shuffled = rows.join("\n");
        let a = preview_groups(&def, text.as_bytes(), &options(Format::Auto));
        let b = preview_groups(&def, shuffled.as_bytes(), &options(Format::Auto));
        assert_same_but_order(&a, &b, false);
    }
}

// ---------------------------------------------------------------------------------------
// (d) CSV and NDJSON of the same flat string profiles

#[derive(Clone, Debug)]
struct Flat {
    mpid: String,
    cells: [String; 6],
}

fn flat_strategy() -> impl Strategy<Value = Flat> {
    let pick =
        |choices: &'static [&'static str]| prop::sample::select(choices).prop_map(str::to_owned);
    (
        prop_oneof![9 => (0u32..30).prop_map(|i| i.to_string()), 1 => Just(String::new()), 1 => Just("-9223372036854775808".to_owned())],
        pick(&["12 Main St, Springfield", "7 \"Old Mill\" Road", "Straße 9 🏠", "1 Elm Street", "abcd", "", " 1 Elm Street"]),
        pick(&["", "true", "FALSE", " true ", "maybe"]),
        pick(&["", "1", "2.5", "1e3", "lots", "-0.25"]),
        pick(&["", "3", "x", "10"]),
        pick(&["", "US", "DE, Berlin", "\"quoted\""]),
        (0i64..5000, 0u8..4).prop_map(|(t, form)| match form {
            0 => String::new(),
            1 => (1_700_000_000_000 + t * 997).to_string(),
            2 => rfc3339(1_700_000_000_000 + t * 997, 0),
            _ => "soon".to_owned(),
        }),
    )
        .prop_map(|(mpid, address, has_dog, ltv, visits, country, time)| Flat {
            mpid,
            cells: [address, has_dog, ltv, visits, country, time],
        })
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn csv_and_ndjson_of_the_same_string_profiles_agree(
        rows in prop::collection::vec(flat_strategy(), 0..40),
        crlf in any::<bool>(),
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut csv = COLUMNS.join(",") + newline;
        // A blank first line, so that record k is on line k + 1 in both.
        let mut ndjson = newline.to_owned();
        for row in &rows {
            let values = std::iter::once(&row.mpid).chain(&row.cells);
            csv += &values.clone().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
            csv += newline;
            let object: serde_json::Map<String, Value> = COLUMNS
                .iter()
                .zip(values)
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            ndjson += &Value::Object(object).to_string();
            ndjson += newline;
        }
        let def = definition_for_generated();
        let mut from_csv = preview_groups(&def, csv.as_bytes(), &options(Format::Auto));
        let from_ndjson = preview_groups(&def, ndjson.as_bytes(), &options(Format::Auto));
        prop_assert_eq!(from_csv.format, Format::Csv);
        prop_assert_eq!(from_ndjson.format, Format::Ndjson);
        from_csv.format = Format::Ndjson;
        prop_assert_eq!(from_csv, from_ndjson, "csv:\n{}\nndjson:\n{}", csv, ndjson);
    }
}

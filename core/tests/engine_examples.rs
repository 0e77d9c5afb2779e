//! The contract of SPEC sections 3 to 5, example by example, through the public API.
//!
//! Where SPEC is silent, the test follows the behaviour the project chose and says so
//! with a `// decision:` comment.

use group_identity::profiles::read_all;
use group_identity::{
    preview_audience, preview_groups, Aggregation, AudienceOptions, Condition, Format,
    GroupAttribute, GroupDefinition, Level, Preview, PreviewOptions, PreviewSession,
};
use serde_json::{json, Value};

mod support;
use support::check_stats;

// ---------------------------------------------------------------------------------------
// Helpers

fn definition(source: &str, attributes: &[(&str, Aggregation)]) -> GroupDefinition {
    GroupDefinition {
        id: "household".into(),
        description: None,
        source_user_attribute: source.into(),
        attributes: attributes
            .iter()
            .map(|(id, aggregation)| GroupAttribute {
                id: (*id).into(),
                aggregation: *aggregation,
            })
            .collect(),
    }
}

fn household(attributes: &[(&str, Aggregation)]) -> GroupDefinition {
    definition("$address", attributes)
}

fn run_with(def: &GroupDefinition, input: &str, options: &PreviewOptions) -> Preview {
    let preview = preview_groups(def, input.as_bytes(), options);
    // Every example also holds when streamed one byte at a time.
    let mut session = PreviewSession::new(def, options);
    for b in input.as_bytes() {
        session.push(std::slice::from_ref(b));
    }
    assert_eq!(session.finish(), preview, "streamed byte by byte");
    check_stats(&preview, options.max_listed);
    preview
}

fn run(def: &GroupDefinition, input: &str) -> Preview {
    run_with(def, input, &PreviewOptions::default())
}

/// NDJSON from JSON values, one a line.
fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn attr<'p>(p: &'p Preview, key: &str, name: &str) -> Option<&'p Value> {
    p.groups
        .iter()
        .find(|g| g.key == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {p:#?}"))
        .attributes
        .get(name)
}

fn members(p: &Preview, key: &str) -> Vec<String> {
    p.groups
        .iter()
        .find(|g| g.key == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {p:#?}"))
        .members
        .iter()
        .map(|m| m.to_text())
        .collect()
}

/// The listed short keys with their counts.
fn short_keys(p: &Preview) -> Vec<(&str, u64)> {
    p.short_keys
        .iter()
        .map(|k| (k.key.as_str(), k.count))
        .collect()
}

fn codes(p: &Preview) -> Vec<&str> {
    p.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn diagnostics_with<'p>(p: &'p Preview, code: &str) -> Vec<&'p group_identity::Diagnostic> {
    p.diagnostics.iter().filter(|d| d.code == code).collect()
}

const HOME: &str = "123 Main St";

// ---------------------------------------------------------------------------------------
// The API reference's example and boolean_or

#[test]
fn john_and_jane_share_has_dog_true_when_one_has_a_dog() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "name": "John Doe", "has_dog": true}),
            json!({"mpid": 2, "$address": HOME, "name": "Jane Doe"}),
        ]),
    );
    assert_eq!(p.group_id, "household");
    assert_eq!(p.groups.len(), 1);
    assert_eq!(members(&p, HOME), ["1", "2"]);
    assert_eq!(attr(&p, HOME, "household:has_dog"), Some(&json!(true)));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn has_dog_is_false_for_everyone_when_nobody_has_one_and_always_set() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "has_dog": false}),
            json!({"mpid": 2, "$address": HOME}),
            json!({"mpid": 3, "$address": "9 Elm Road"}),
            json!({"mpid": 4, "$address": "9 Elm Road"}),
        ]),
    );
    assert_eq!(attr(&p, HOME, "household:has_dog"), Some(&json!(false)));
    // No member has the attribute at all: still set, to false.
    assert_eq!(
        attr(&p, "9 Elm Road", "household:has_dog"),
        Some(&json!(false))
    );
}

#[test]
fn boolean_or_coerces_strings_trimmed_in_any_case() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": "1 True Lane", "has_dog": "TRUE"}),
            json!({"mpid": 2, "$address": "1 True Lane", "has_dog": false}),
            json!({"mpid": 3, "$address": "2 False Lane", "has_dog": " false "}),
            json!({"mpid": 4, "$address": "2 False Lane", "has_dog": "False"}),
            json!({"mpid": 5, "$address": "3 Spaced Lane", "has_dog": "\ttrue\n"}),
            json!({"mpid": 6, "$address": "3 Spaced Lane"}),
        ]),
    );
    assert_eq!(
        attr(&p, "1 True Lane", "household:has_dog"),
        Some(&json!(true))
    );
    assert_eq!(
        attr(&p, "2 False Lane", "household:has_dog"),
        Some(&json!(false))
    );
    assert_eq!(
        attr(&p, "3 Spaced Lane", "household:has_dog"),
        Some(&json!(true))
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn uncoercible_values_are_left_out_and_warned_once_per_profile_and_attribute() {
    let def = household(&[
        ("has_dog", Aggregation::BooleanOr),
        ("ltv", Aggregation::Sum),
        ("visits", Aggregation::Average),
    ]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "has_dog": "maybe", "ltv": "lots", "visits": 4}),
            json!({"mpid": 2, "$address": HOME, "has_dog": 1, "ltv": 10, "visits": [1, 2]}),
            // No key: values are still checked and reported.
            json!({"mpid": 3, "has_dog": "yes"}),
        ]),
    );
    // "maybe" and 1 are not booleans: nobody has a usable true.
    assert_eq!(attr(&p, HOME, "household:has_dog"), Some(&json!(false)));
    assert_eq!(attr(&p, HOME, "household:ltv"), Some(&json!(10)));
    assert_eq!(attr(&p, HOME, "household:visits"), Some(&json!(4)));
    let mut seen: Vec<(String, String)> = diagnostics_with(&p, "uncoercible_value")
        .iter()
        .map(|d| {
            assert_eq!(d.level, Level::Warning);
            (
                d.mpid.clone().unwrap_or_default(),
                d.attribute.clone().unwrap_or_default(),
            )
        })
        .collect();
    seen.sort();
    let expected: Vec<(String, String)> = [
        ("1", "has_dog"),
        ("1", "ltv"),
        ("2", "has_dog"),
        ("2", "visits"),
        ("3", "has_dog"),
    ]
    .iter()
    .map(|(m, a)| (m.to_string(), a.to_string()))
    .collect();
    assert_eq!(seen, expected, "{:#?}", p.diagnostics);
    assert_eq!(p.diagnostics.len(), 5, "{:#?}", p.diagnostics);
    // The warning names the value found.
    let maybe = &diagnostics_with(&p, "uncoercible_value")[0];
    assert!(maybe.message.contains("maybe"), "{}", maybe.message);
    assert_eq!(maybe.line, Some(1));
}

// ---------------------------------------------------------------------------------------
// sum and average

#[test]
fn sum_takes_numbers_and_numeric_strings() {
    let def = household(&[("ltv", Aggregation::Sum)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "ltv": 1.5}),
            json!({"mpid": 2, "$address": HOME, "ltv": "1e3"}),
            json!({"mpid": 3, "$address": HOME, "ltv": "-3.5"}),
            json!({"mpid": 4, "$address": HOME, "ltv": "12"}),
            json!({"mpid": 5, "$address": HOME, "ltv": 0.5}),
        ]),
    );
    // 1.5 + 1000 - 3.5 + 12 + 0.5 = 1010.5
    assert_eq!(attr(&p, HOME, "household:ltv"), Some(&json!(1010.5)));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

/// A number is the double nearest to what is written, whichever format carries it and
/// wherever it is used: 17 digits (as JavaScript writes `0.1 + 0.2`) and exponents too.
#[test]
fn numbers_are_the_nearest_double_in_every_format() {
    let def = household(&[("ltv", Aggregation::Sum), ("c", Aggregation::Latest)]);
    for text in [
        "0.83575876580499574",
        "0.30000000000000004",
        "123456789.12345678",
        "1.7976931348623157e308",
        "2.2250738585072014e-308",
        "8.98846567431158e307",
        "1e23",
        "-4.9406564584124654e-324",
    ] {
        let expected: f64 = text.parse().unwrap();
        let json = format!(
            "{{\"mpid\":1,\"$address\":\"{HOME}\",\"ltv\":{text},\"c\":{text}}}\n\
             {{\"mpid\":2,\"$address\":\"{HOME}\"}}\n"
        );
        let csv = format!("mpid,$address,ltv\n1,{HOME},{text}\n2,{HOME},0\n");
        for (input, format) in [(&json, "NDJSON"), (&csv, "CSV")] {
            let p = run(&def, input);
            let sum = attr(&p, HOME, "household:ltv").and_then(Value::as_f64);
            assert_eq!(sum, Some(expected), "{text} in {format}");
        }
        let p = run(&def, &json);
        let latest = attr(&p, HOME, "household:c").and_then(Value::as_f64);
        assert_eq!(latest, Some(expected), "{text} kept by latest");
    }
}

#[test]
fn integral_results_print_without_a_fraction() {
    let def = household(&[("ltv", Aggregation::Sum), ("visits", Aggregation::Average)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "ltv": 1.5, "visits": 2.5}),
            json!({"mpid": 2, "$address": HOME, "ltv": 1.5, "visits": 3.5}),
        ]),
    );
    let ltv = attr(&p, HOME, "household:ltv").unwrap();
    assert_eq!(serde_json::to_string(ltv).unwrap(), "3");
    let visits = attr(&p, HOME, "household:visits").unwrap();
    assert_eq!(serde_json::to_string(visits).unwrap(), "3");
    let text = serde_json::to_string(&p).unwrap();
    assert!(text.contains("\"household:ltv\":3,"), "{text}");
}

#[test]
fn sum_rejects_what_is_not_a_whole_finite_decimal_number() {
    let def = household(&[("ltv", Aggregation::Sum)]);
    let values = [
        json!("lots"),
        json!("NaN"),
        json!("inf"),
        json!("1e999"),
        json!("12abc"),
        json!(""),
        json!(true),
        json!({"amount": 1}),
        // decision: numeric strings are not trimmed ("parse whole"): " 12" is not a number.
        json!(" 12"),
    ];
    let mut records = vec![json!({"mpid": 0, "$address": HOME, "ltv": 7})];
    for (i, v) in values.iter().enumerate() {
        records.push(json!({"mpid": i + 1, "$address": format!("{i} Other Street"), "ltv": v}));
    }
    let p = run(&def, &ndjson(&records));
    let warned: Vec<_> = diagnostics_with(&p, "uncoercible_value")
        .iter()
        .map(|d| d.mpid.clone().unwrap_or_default())
        .collect();
    let expected: Vec<String> = (1..=values.len()).map(|i| i.to_string()).collect();
    assert_eq!(warned, expected, "{:#?}", p.diagnostics);
}

#[test]
fn sum_and_average_are_not_set_without_a_usable_value() {
    let def = household(&[
        ("ltv", Aggregation::Sum),
        ("visits", Aggregation::Average),
        ("has_dog", Aggregation::BooleanOr),
    ]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "ltv": "n/a"}),
            json!({"mpid": 2, "$address": HOME, "visits": null}),
        ]),
    );
    let group = &p.groups[0];
    assert_eq!(group.attributes.get("household:ltv"), None);
    assert_eq!(group.attributes.get("household:visits"), None);
    // Attributes come in definition order; unset ones are simply missing.
    let names: Vec<&str> = group.attributes.0.iter().map(|(n, _)| &**n).collect();
    assert_eq!(names, ["household:has_dog"]);
}

#[test]
fn average_is_the_mean_of_usable_values() {
    let def = household(&[("visits", Aggregation::Average)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "visits": 1}),
            json!({"mpid": 2, "$address": HOME, "visits": "2"}),
            json!({"mpid": 3, "$address": HOME}),
            json!({"mpid": 4, "$address": HOME, "visits": "maybe"}),
            json!({"mpid": 5, "$address": HOME, "visits": 4.5}),
            json!({"mpid": 6, "$address": "7 Even Street", "visits": 1}),
            json!({"mpid": 7, "$address": "7 Even Street", "visits": 2}),
        ]),
    );
    // (1 + 2 + 4.5) / 3: absent and unusable values do not count.
    assert_eq!(attr(&p, HOME, "household:visits"), Some(&json!(2.5)));
    assert_eq!(
        attr(&p, "7 Even Street", "household:visits"),
        Some(&json!(1.5))
    );
    assert_eq!(codes(&p), ["uncoercible_value"]);
}

// ---------------------------------------------------------------------------------------
// latest

fn latest_of(records: &[Value]) -> Option<Value> {
    let def = household(&[("country", Aggregation::Latest)]);
    let p = run(&def, &ndjson(records));
    assert_eq!(p.groups.len(), 1, "{p:#?}");
    p.groups[0].attributes.get("household:country").cloned()
}

#[test]
fn latest_prefers_the_per_attribute_time_over_the_profile_time() {
    // A's country time (2020) is older than B's updated_at (2022), although A's own
    // updated_at (2025) is the newest time of all.
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "updated_at": "2025-01-01T00:00:00Z",
               "user_attribute_timestamps": {"country": "2020-01-01T00:00:00Z"}}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "updated_at": "2022-01-01T00:00:00Z"}),
    ]);
    assert_eq!(got, Some(json!("DE")));
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US",
               "user_attribute_timestamps": {"country": 1_700_000_000_001_i64}}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "updated_at": 1_700_000_000_000_i64}),
    ]);
    assert_eq!(got, Some(json!("US")));
}

#[test]
fn latest_uses_updated_at_then_last_stored_timestamp() {
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "last_stored_timestamp_ms": 2_000}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "last_stored_timestamp_ms": 1_000}),
    ]);
    assert_eq!(got, Some(json!("US")));
    // updated_at comes before last_stored_timestamp_ms on the same profile.
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US",
               "updated_at": 1_000, "last_stored_timestamp_ms": 9_000}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "last_stored_timestamp_ms": 2_000}),
    ]);
    assert_eq!(got, Some(json!("DE")));
}

#[test]
fn latest_values_without_a_time_are_older_than_any_with_one() {
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "updated_at": "1971-01-01T00:00:00Z"}),
        json!({"mpid": 2, "$address": HOME, "country": "DE"}),
    ]);
    assert_eq!(got, Some(json!("US")));
    // Without any time at all, the later record wins (a tie).
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US"}),
        json!({"mpid": 2, "$address": HOME, "country": "DE"}),
    ]);
    assert_eq!(got, Some(json!("DE")));
}

#[test]
fn latest_ties_go_to_the_later_record_across_time_forms() {
    // The same instant as RFC 3339 with an offset and as epoch milliseconds.
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US",
               "user_attribute_timestamps": {"country": "2024-01-02T04:04:05.678+01:00"}}),
        json!({"mpid": 2, "$address": HOME, "country": "DE",
               "user_attribute_timestamps": {"country": 1_704_164_645_678_i64}}),
        json!({"mpid": 3, "$address": HOME, "country": "FR",
               "user_attribute_timestamps": {"country": "2024-01-02T03:04:05.677Z"}}),
    ]);
    assert_eq!(got, Some(json!("DE")));
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "updated_at": 1_704_164_645_678_i64}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "updated_at": "2024-01-02T03:04:05.678Z"}),
    ]);
    assert_eq!(got, Some(json!("DE")));
    // Milliseconds written as a double (Python writes `1704164645678.0`), or with a
    // fraction a double holds exactly, are the same instant too.
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US",
               "user_attribute_timestamps": {"country": 1_704_164_645_678_i64}}),
        json!({"mpid": 2, "$address": HOME, "country": "DE",
               "user_attribute_timestamps": {"country": 1_704_164_645_678.0_f64}}),
    ]);
    assert_eq!(got, Some(json!("DE")));
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "updated_at": "2024-01-02T03:04:05.6785Z"}),
        json!({"mpid": 2, "$address": HOME, "country": "DE", "updated_at": 1_704_164_645_678.5_f64}),
    ]);
    assert_eq!(got, Some(json!("DE")));
}

#[test]
fn latest_keeps_any_non_null_value_as_it_is() {
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": {"code": "US"}, "updated_at": 5}),
        json!({"mpid": 2, "$address": HOME, "country": null, "updated_at": 9}),
    ]);
    assert_eq!(got, Some(json!({"code": "US"})));
    let got = latest_of(&[
        json!({"mpid": 1, "$address": HOME, "country": 12.50, "updated_at": 5}),
        json!({"mpid": 2, "$address": HOME}),
    ]);
    assert_eq!(got, Some(json!(12.5)));
    assert_eq!(
        latest_of(&[
            json!({"mpid": 1, "$address": HOME}),
            json!({"mpid": 2, "$address": HOME})
        ]),
        None
    );
}

#[test]
fn latest_with_an_unreadable_time_warns_and_falls_back() {
    // decision: a per-attribute time that is not a time is reported (`invalid_timestamp`)
    // and the profile's own time is used instead.
    let def = household(&[("country", Aggregation::Latest)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "country": "US", "updated_at": 3_000,
                   "user_attribute_timestamps": {"country": "yesterday"}}),
            json!({"mpid": 2, "$address": HOME, "country": "DE", "updated_at": 2_000}),
        ]),
    );
    assert_eq!(attr(&p, HOME, "household:country"), Some(&json!("US")));
    assert_eq!(codes(&p), ["invalid_timestamp"]);
}

// ---------------------------------------------------------------------------------------
// Keys

fn keyed(values: &[Value]) -> Preview {
    let def = household(&[]);
    let records: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"mpid": i + 1, "$address": v}))
        .collect();
    run(&def, &ndjson(&records))
}

#[test]
fn keys_are_case_sensitive_and_not_trimmed() {
    let p = keyed(&[
        json!("12 Main St"),
        json!("12 MAIN ST"),
        json!("12 Main St "),
        json!(" 12 Main St"),
    ]);
    assert_eq!(p.stats.groups, 0);
    assert_eq!(p.stats.singletons, 4);
    let keys: Vec<&str> = p.singletons.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        ["12 Main St", "12 MAIN ST", "12 Main St ", " 12 Main St"]
    );
}

#[test]
fn numbers_and_booleans_are_keys_by_their_json_text() {
    let def = household(&[]);
    let input = "{\"mpid\":1,\"$address\":12345}\n{\"mpid\":2,\"$address\":\"12345\"}\n\
                 {\"mpid\":3,\"$address\":false}\n{\"mpid\":4,\"$address\":false}\n\
                 {\"mpid\":5,\"$address\":true}\n{\"mpid\":6,\"$address\":1.50}\n\
                 {\"mpid\":7,\"$address\":\"1.50\"}\n";
    let p = run(&def, input);
    assert_eq!(members(&p, "12345"), ["1", "2"]);
    assert_eq!(members(&p, "false"), ["3", "4"]);
    // "true" has four characters; "1.50" keeps its text (not 1.5).
    assert_eq!(p.stats.short_key, 3);
    assert_eq!(short_keys(&p), [("true", 1), ("1.50", 2)]);
}

#[test]
fn lists_stop_at_max_listed_and_the_totals_count_the_rest() {
    let def = household(&[]);
    // Short keys k0..k4 (k0 twice), and singletons s0..s4 (over 5 characters).
    let records: Vec<Value> = (0..5)
        .flat_map(|i| [format!("k{i}"), format!("single {i}")])
        .chain(["k0".to_string()])
        .enumerate()
        .map(|(mpid, key)| json!({"mpid": mpid, "$address": key}))
        .collect();
    let options = PreviewOptions {
        max_listed: 2,
        ..PreviewOptions::default()
    };
    let p = run_with(&def, &ndjson(&records), &options);
    assert_eq!(short_keys(&p), [("k0", 2), ("k1", 1)]);
    assert_eq!((p.distinct_short_keys, p.stats.short_key), (5, 6));
    assert_eq!(p.singletons.len(), 2);
    assert_eq!(p.stats.singletons, 5);
}

#[test]
fn absent_null_and_empty_keys_are_no_key_without_warning() {
    let def = household(&[]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1}),
            json!({"mpid": 2, "$address": null}),
            json!({"mpid": 3, "$address": ""}),
        ]),
    );
    assert_eq!(p.stats.no_key, 3);
    assert_eq!(p.stats.profiles, 3);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn arrays_and_objects_are_unusable_keys() {
    let p = keyed(&[
        json!(["12 Main St"]),
        json!({"street": "12 Main St"}),
        json!([]),
    ]);
    assert_eq!(p.stats.no_key, 3);
    let warnings = diagnostics_with(&p, "unusable_key");
    assert_eq!(warnings.len(), 3, "{:#?}", p.diagnostics);
    assert_eq!(warnings[0].level, Level::Warning);
    assert_eq!(warnings[0].mpid.as_deref(), Some("1"));
    assert_eq!(warnings[0].attribute.as_deref(), Some("$address"));
    assert_eq!(warnings[1].line, Some(2));
}

#[test]
fn keys_under_five_code_points_form_no_group() {
    let p = keyed(&[
        json!("abcd"),
        json!("abcd"),
        json!("abcde"),
        json!("abcde"),
        json!("🏠🏠🏠🏠"),
        json!("🏠🏠🏠🏠"),
        json!("ééééé"),
        json!("ééééé"),
    ]);
    assert_eq!(p.stats.short_key, 4);
    assert_eq!(p.stats.groups, 2);
    assert_eq!(members(&p, "abcde"), ["3", "4"]);
    assert_eq!(members(&p, "ééééé"), ["7", "8"]);
    assert_eq!(short_keys(&p), [("abcd", 2), ("🏠🏠🏠🏠", 2)]);
}

#[test]
fn ten_members_group_eleven_are_oversized_one_is_a_singleton() {
    let mut records = Vec::new();
    for i in 0..10 {
        records.push(json!({"mpid": 100 + i, "$address": "10 Full House", "visits": 1}));
    }
    for i in 0..11 {
        records.push(json!({"mpid": 200 + i, "$address": "11 Too Many Rd", "visits": 1}));
    }
    records.push(json!({"mpid": 300, "$address": "1 Alone Street"}));
    let def = household(&[("visits", Aggregation::Sum)]);
    let p = run(&def, &ndjson(&records));
    assert_eq!(members(&p, "10 Full House").len(), 10);
    assert_eq!(
        attr(&p, "10 Full House", "household:visits"),
        Some(&json!(10))
    );
    assert_eq!(p.oversized.len(), 1);
    assert_eq!(p.oversized[0].key, "11 Too Many Rd");
    assert_eq!(p.oversized[0].size, 11);
    assert_eq!(p.stats.oversized_profiles, 11);
    assert_eq!(p.stats.oversized_groups, 1);
    assert_eq!(p.stats.grouped_profiles, 10);
    assert_eq!(p.stats.singletons, 1);
    assert_eq!(p.singletons[0].key, "1 Alone Street");
    assert_eq!(p.singletons[0].mpid, "300");
    assert_eq!(p.stats.profiles, 22);
}

#[test]
fn normalize_keys_joins_near_duplicates() {
    let def = household(&[]);
    let input = ndjson(&[
        json!({"mpid": 1, "$address": "12 Main St"}),
        json!({"mpid": 2, "$address": "  12  MAIN\tst "}),
        json!({"mpid": 3, "$address": "12 ÉLM St"}),
        json!({"mpid": 4, "$address": "12 élm st"}),
        json!({"mpid": 5, "$address": "   "}),
    ]);
    let plain = run(&def, &input);
    assert_eq!(plain.stats.groups, 0);
    let options = PreviewOptions {
        normalize_keys: true,
        ..PreviewOptions::default()
    };
    let p = run_with(&def, &input, &options);
    // decision: a group's key is shown normalized; a key of white space only is no key.
    assert_eq!(members(&p, "12 main st"), ["1", "2"]);
    assert_eq!(members(&p, "12 élm st"), ["3", "4"]);
    assert_eq!(p.stats.no_key, 1);
}

#[test]
fn source_attribute_case_warns_when_only_another_spelling_exists() {
    let def = household(&[]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$Address": HOME}),
            json!({"mpid": 2, "$Address": HOME}),
            json!({"mpid": 3, "user_attributes": {"$Address": HOME}}),
            json!({"mpid": 4, "$ADDRESS": "1 Elm Street"}),
        ]),
    );
    assert_eq!(p.stats.no_key, 4);
    let warnings = diagnostics_with(&p, "source_attribute_case");
    assert_eq!(warnings.len(), 2, "{:#?}", p.diagnostics);
    assert_eq!(warnings[0].level, Level::Warning);
    assert_eq!(warnings[0].attribute.as_deref(), Some("$Address"));
    // decision: the count is in the message, one warning per spelling.
    assert!(warnings[0].message.contains('3'), "{}", warnings[0].message);
    assert_eq!(warnings[1].attribute.as_deref(), Some("$ADDRESS"));

    // One profile with the exact spelling: no warning.
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$Address": HOME}),
            json!({"mpid": 2, "$address": HOME}),
        ]),
    );
    assert!(diagnostics_with(&p, "source_attribute_case").is_empty());

    // The other spelling is also a group attribute: still the source's case variant.
    let def = household(&[("$Address", Aggregation::Latest)]);
    let json = ndjson(&[
        json!({"mpid": 1, "$Address": HOME}),
        json!({"mpid": 2, "user_attributes": {"$Address": HOME}}),
    ]);
    let csv = format!("mpid,$Address\n1,{HOME}\n2,{HOME}\n");
    for input in [json, csv] {
        let p = run(&def, &input);
        let warnings = diagnostics_with(&p, "source_attribute_case");
        assert_eq!(warnings.len(), 1, "{input}: {:#?}", p.diagnostics);
        assert_eq!(warnings[0].attribute.as_deref(), Some("$Address"));
        assert!(warnings[0].message.contains('2'), "{}", warnings[0].message);
    }
}

/// A name of n letters has 2^n spellings: past the first 20, they are counted, not listed
/// (a file of a spelling a profile costs linear time, and a bounded list).
#[test]
fn source_attribute_case_lists_twenty_spellings_and_counts_the_rest() {
    let def = definition("abcdefgh", &[]);
    let records: Vec<Value> = (1..=30_u32)
        .map(|i| {
            let spelling: String = "abcdefgh"
                .chars()
                .enumerate()
                .map(|(bit, c)| {
                    if i & (1 << bit) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            json!({"mpid": i, spelling: HOME})
        })
        .collect();
    let p = run(&def, &ndjson(&records));
    let warnings = diagnostics_with(&p, "source_attribute_case");
    assert_eq!(warnings.len(), 21, "{:#?}", p.diagnostics);
    assert!(warnings[..20].iter().all(|w| w.attribute.is_some()));
    assert_eq!(warnings[0].attribute.as_deref(), Some("Abcdefgh"));
    assert!(
        warnings[20].message.starts_with("10 more profile(s)"),
        "{}",
        warnings[20].message
    );
}

// ---------------------------------------------------------------------------------------
// mpids

#[test]
fn mpids_are_strings_or_integers_and_survive_exactly() {
    let def = household(&[]);
    let input = format!(
        "{}\n{}\n{}\n",
        r#"{"mpid": -9223372036854775808, "$address": "123 Main St"}"#,
        r#"{"mpid": 9223372036854775807, "$address": "123 Main St"}"#,
        r#"{"mpid": "9007199254740993", "$address": "123 Main St"}"#,
    );
    let p = run(&def, &input);
    assert_eq!(
        members(&p, HOME),
        [
            "-9223372036854775808",
            "9223372036854775807",
            "9007199254740993"
        ]
    );
    let text = serde_json::to_string(&p).unwrap();
    assert!(text.contains("\"-9223372036854775808\""), "{text}");
}

#[test]
fn missing_mpid_is_skipped_with_its_line() {
    let def = household(&[]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME}),
            json!({"$address": HOME}),
            json!({"mpid": null, "$address": HOME}),
            json!({"mpid": 2, "$address": HOME}),
        ]),
    );
    assert_eq!(p.stats.profiles, 2);
    assert_eq!(p.stats.skipped, 2);
    let missing = diagnostics_with(&p, "missing_mpid");
    let lines: Vec<Option<u64>> = missing.iter().map(|d| d.line).collect();
    assert_eq!(lines, [Some(2), Some(3)]);
    assert_eq!(members(&p, HOME), ["1", "2"]);
}

#[test]
fn repeated_mpid_is_skipped_and_the_first_stands() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 7, "$address": HOME, "has_dog": false}),
            json!({"mpid": 8, "$address": HOME}),
            json!({"mpid": 7, "$address": HOME, "has_dog": true}),
            // decision: "7" and 7 are the same mpid.
            json!({"mpid": "7", "$address": "9 Elm Road"}),
        ]),
    );
    assert_eq!(members(&p, HOME), ["7", "8"]);
    assert_eq!(attr(&p, HOME, "household:has_dog"), Some(&json!(false)));
    assert_eq!(p.stats.skipped, 2);
    let dups = diagnostics_with(&p, "duplicate_mpid");
    assert_eq!(dups.len(), 2);
    assert_eq!(dups[0].level, Level::Warning);
    assert_eq!(dups[0].mpid.as_deref(), Some("7"));
    assert_eq!(dups[0].line, Some(3));
}

#[test]
fn mpids_that_are_not_ids_are_skipped() {
    // decision: numbers outside signed 64 bits, fractions, booleans, arrays and objects
    // are `invalid_mpid`; an empty string is a missing mpid.
    let def = household(&[]);
    let input = "{\"mpid\": 9223372036854775808}\n{\"mpid\": 1.5}\n{\"mpid\": true}\n\
                 {\"mpid\": [1]}\n{\"mpid\": {}}\n{\"mpid\": \"\"}\n{\"mpid\": \"abc\"}\n";
    let p = run(&def, input);
    assert_eq!(p.stats.skipped, 6);
    assert_eq!(p.stats.profiles, 1);
    assert_eq!(
        codes(&p),
        [
            "invalid_mpid",
            "invalid_mpid",
            "invalid_mpid",
            "invalid_mpid",
            "invalid_mpid",
            "missing_mpid"
        ]
    );
}

#[test]
fn null_is_the_same_as_absent() {
    let def = household(&[
        ("has_dog", Aggregation::BooleanOr),
        ("country", Aggregation::Latest),
        ("ltv", Aggregation::Sum),
    ]);
    let with_nulls = ndjson(&[
        json!({"mpid": 1, "$address": HOME, "has_dog": null, "ltv": null, "country": "US",
               "updated_at": null, "user_attribute_timestamps": {"country": null},
               "last_stored_timestamp_ms": 5}),
        json!({"mpid": 2, "$address": HOME, "country": null, "ltv": 4,
               "user_attribute_timestamps": null}),
        json!({"mpid": 3, "$address": null}),
    ]);
    let without = ndjson(&[
        json!({"mpid": 1, "$address": HOME, "country": "US", "last_stored_timestamp_ms": 5}),
        json!({"mpid": 2, "$address": HOME, "ltv": 4}),
        json!({"mpid": 3}),
    ]);
    let a = run(&def, &with_nulls);
    let b = run(&def, &without);
    assert_eq!(a, b);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    assert_eq!(attr(&a, HOME, "household:country"), Some(&json!("US")));
}

// ---------------------------------------------------------------------------------------
// Formats and broken input

#[test]
fn ndjson_skips_blank_lines_and_reports_bad_lines_by_number() {
    let def = household(&[]);
    let input = "\n{\"mpid\":1,\"$address\":\"123 Main St\"}\n   \n{\"mpid\":2,\"$address\":\n\
                 {\"mpid\":3,\"$address\":\"123 Main St\"}\r\n\r\n42\n";
    let p = run(&def, input);
    assert_eq!(p.format, Format::Ndjson);
    assert_eq!(members(&p, HOME), ["1", "3"]);
    assert_eq!(p.stats.skipped, 2);
    let found: Vec<(&str, Option<u64>, Level)> = p
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.level))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_json", Some(4), Level::Error),
            ("not_an_object", Some(7), Level::Error)
        ]
    );
    assert!(p.diagnostics[0].column.is_some());
}

#[test]
fn json_array_broken_in_the_middle_is_one_error_with_line_and_column() {
    let def = household(&[]);
    let input = "[\n  {\"mpid\": 1, \"$address\": \"123 Main St\"},\n  {\"mpid\": 2, \"$address\": \"123 Main St\"},\n  {\"mpid\": 3, \"$address\": oops},\n  {\"mpid\": 4, \"$address\": \"123 Main St\"}\n]\n";
    let p = run(&def, input);
    assert_eq!(p.format, Format::Json);
    assert_eq!(members(&p, HOME), ["1", "2"]);
    assert_eq!(p.stats.profiles, 2);
    assert_eq!(p.diagnostics.len(), 1, "{:#?}", p.diagnostics);
    let d = &p.diagnostics[0];
    assert_eq!(d.level, Level::Error);
    assert_eq!(d.code, "invalid_json");
    assert_eq!(d.line, Some(4));
    // The `o` of `oops`.
    assert_eq!(d.column, Some(27));
}

#[test]
fn json_array_skips_records_that_are_not_objects() {
    let def = household(&[]);
    let input = "[\n{\"mpid\": 1, \"$address\": \"123 Main St\"},\n\"text\",\n[1, 2],\nnull,\n7,\n{\"mpid\": 2, \"$address\": \"123 Main St\"}\n]";
    let p = run(&def, input);
    assert_eq!(members(&p, HOME), ["1", "2"]);
    assert_eq!(p.stats.skipped, 4);
    let found: Vec<(&str, Option<u64>)> = p
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        found,
        [
            ("not_an_object", Some(3)),
            ("not_an_object", Some(4)),
            ("not_an_object", Some(5)),
            ("not_an_object", Some(6))
        ]
    );
}

#[test]
fn csv_quoting_empty_cells_and_string_values() {
    let def = household(&[
        ("has_dog", Aggregation::BooleanOr),
        ("ltv", Aggregation::Sum),
    ]);
    let input = "mpid,$address,has_dog,ltv\n\
                 1,\"12 Main St, Apt 4\",TRUE,1e3\n\
                 2,\"12 Main St, Apt 4\",,-3.5\n\
                 3,\"The \"\"Old\"\" Mill\",maybe,\n\
                 4,\"The \"\"Old\"\" Mill\", false ,12\n\
                 5,,true,1\n";
    let p = run(&def, input);
    assert_eq!(p.format, Format::Csv);
    assert_eq!(members(&p, "12 Main St, Apt 4"), ["1", "2"]);
    assert_eq!(
        attr(&p, "12 Main St, Apt 4", "household:has_dog"),
        Some(&json!(true))
    );
    assert_eq!(
        attr(&p, "12 Main St, Apt 4", "household:ltv"),
        Some(&json!(996.5))
    );
    assert_eq!(members(&p, "The \"Old\" Mill"), ["3", "4"]);
    assert_eq!(
        attr(&p, "The \"Old\" Mill", "household:has_dog"),
        Some(&json!(false))
    );
    assert_eq!(p.stats.no_key, 1);
    // Empty cells are absent: only "maybe" is uncoercible. Lines count the header.
    let warnings = diagnostics_with(&p, "uncoercible_value");
    assert_eq!(warnings.len(), 1, "{:#?}", p.diagnostics);
    assert_eq!(warnings[0].mpid.as_deref(), Some("3"));
    assert_eq!(warnings[0].line, Some(4));
}

#[test]
fn csv_needs_an_mpid_column() {
    let def = household(&[]);
    let p = run(&def, "id,$address\n1,123 Main St\n2,123 Main St\n");
    assert_eq!(p.stats.profiles, 0);
    assert_eq!(p.stats.skipped, 2);
    // decision: one error for the header, then each row is a missing mpid.
    assert_eq!(
        codes(&p),
        ["missing_mpid_column", "missing_mpid", "missing_mpid"]
    );
    assert_eq!(p.diagnostics[0].level, Level::Error);
    assert_eq!(p.diagnostics[0].line, Some(1));
}

#[test]
fn csv_time_columns_are_times_not_attributes() {
    let def = household(&[("country", Aggregation::Latest)]);
    let input = "mpid,$address,country,updated_at,last_stored_timestamp_ms\n\
                 1,123 Main St,US,2024-01-02T00:00:00Z,\n\
                 2,123 Main St,DE,2023-01-01T00:00:00Z,\n\
                 3,9 Elm Road,FR,,1704067200000\n\
                 4,9 Elm Road,ES,1704067199999,\n";
    let p = run(&def, input);
    assert_eq!(attr(&p, HOME, "household:country"), Some(&json!("US")));
    assert_eq!(
        attr(&p, "9 Elm Road", "household:country"),
        Some(&json!("FR"))
    );
    let (profiles, diagnostics) = read_all(input.as_bytes(), Format::Csv);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(profiles.len(), 4);
    let keys: Vec<&str> = profiles[0].attributes.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&"$address") && keys.contains(&"country"));
    assert_eq!(profiles[0].attributes["country"], json!("US"));
}

#[test]
fn profile_api_shape_reads_only_user_attributes() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "created_timestamp_ms": 1, "has_dog": true, "$address": "99 Top Level Rd",
                   "user_identities": [{"type": "email", "value": "a@example.com"}],
                   "user_attributes": {"$address": HOME, "has_dog": false}}),
            json!({"mpid": 2, "user_attributes": {"$address": HOME}}),
            // Flat: every key but mpid and times is an attribute.
            json!({"mpid": 3, "$address": "99 Top Level Rd", "has_dog": true}),
        ]),
    );
    assert_eq!(members(&p, HOME), ["1", "2"]);
    assert_eq!(attr(&p, HOME, "household:has_dog"), Some(&json!(false)));
    assert_eq!(p.stats.singletons, 1);
    assert_eq!(p.singletons[0].key, "99 Top Level Rd");

    let input = ndjson(&[
        json!({"mpid": 1, "last_stored_timestamp_ms": 5,
               "user_identities": [], "user_attributes": {"$address": HOME, "a": null, "b": [1]}}),
        json!({"mpid": "2", "$address": HOME, "updated_at": "2024-01-01T00:00:00Z", "c": 1}),
    ]);
    let (profiles, diagnostics) = read_all(input.as_bytes(), Format::Auto);
    assert!(diagnostics.is_empty());
    assert_eq!(profiles[0].mpid, "1");
    assert_eq!(
        Value::Object(profiles[0].attributes.clone()),
        json!({"$address": HOME, "b": [1]})
    );
    assert_eq!(
        Value::Object(profiles[1].attributes.clone()),
        json!({"$address": HOME, "c": 1})
    );
}

#[test]
fn read_all_skips_records_as_a_preview_does() {
    let input = "{\"mpid\":1,\"a\":1}\nnope\n{\"a\":2}\n{\"mpid\":1,\"a\":3}\n";
    let (profiles, diagnostics) = read_all(input.as_bytes(), Format::Ndjson);
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].attributes["a"], json!(1));
    let found: Vec<(&str, Option<u64>)> = diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_json", Some(2)),
            ("missing_mpid", Some(3)),
            ("duplicate_mpid", Some(4))
        ]
    );
}

#[test]
fn a_csv_column_named_twice_is_said_once() {
    let def = household(&[]);
    let input = "mpid,mpid,$address,x,x,x\n1,2,12345\n3,,12345\n";
    let p = run(&def, input);
    let said: Vec<_> = diagnostics_with(&p, "duplicate_column")
        .iter()
        .map(|d| (d.attribute.clone(), d.line, d.message.contains("3 times")))
        .collect();
    assert_eq!(
        said,
        [
            (Some("mpid".to_string()), Some(1), false),
            (Some("x".to_string()), Some(1), true)
        ]
    );
    // The last cell that is not empty counts.
    assert_eq!(p.groups[0].members, ["2", "3"]);
}

#[test]
fn read_all_keeps_a_csv_row_whose_bad_cell_a_preview_would_not_read() {
    // The preview does not use `other`, so it keeps row 1: so does a whole read, without
    // that cell. A used column that is not UTF-8 still costs the preview its row.
    let input = b"mpid,$address,other\n1,12345,\xff\n2,12345,x\n3,12345,\xfe,extra\n";
    let (profiles, diagnostics) = read_all(input, Format::Csv);
    let mpids: Vec<&str> = profiles.iter().map(|p| p.mpid.as_str()).collect();
    assert_eq!(mpids, ["1", "2", "3"]);
    assert_eq!(profiles[0].attributes.get("other"), None);
    assert_eq!(profiles[1].attributes["other"], json!("x"));
    // A row with both a bad cell and extra cells is told both.
    let found: Vec<_> = diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.level, d.line))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_utf8", Level::Warning, Some(2)),
            ("invalid_utf8", Level::Warning, Some(4)),
            ("extra_cells", Level::Warning, Some(4)),
        ]
    );
    let preview = preview_groups(&household(&[]), input, &PreviewOptions::default());
    assert_eq!(preview.stats.grouped_profiles, 3);
    let uses_it = household(&[("other", Aggregation::Latest)]);
    let preview = preview_groups(&uses_it, input, &PreviewOptions::default());
    assert_eq!((preview.stats.profiles, preview.stats.skipped), (1, 2));
}

#[test]
fn format_is_detected_from_the_first_non_blank_character() {
    let def = household(&[]);
    let cases = [
        ("  \n[{\"mpid\":1}]", Format::Json),
        ("\n\n{\"mpid\":1}\n", Format::Ndjson),
        ("mpid,$address\n1,x\n", Format::Csv),
        ("\u{feff}[{\"mpid\":1}]", Format::Json),
    ];
    for (input, format) in cases {
        let p = run(&def, input);
        assert_eq!(p.format, format, "{input:?}");
        assert_eq!(p.stats.profiles, 1, "{input:?}: {p:#?}");
    }
    // A named format wins over detection: `{` read as CSV is a header, not a record.
    let options = PreviewOptions {
        format: Format::Csv,
        ..PreviewOptions::default()
    };
    let p = run_with(&def, "{\"mpid\":1}\n", &options);
    assert_eq!(p.format, Format::Csv);
    assert_eq!(p.stats.profiles, 0);
    // decision: empty input is an empty NDJSON preview.
    let p = run(&def, "");
    assert_eq!(p.stats, Default::default());
    assert!(p.diagnostics.is_empty());
}

#[test]
fn a_blank_start_keeps_every_line_number_in_every_format() {
    let def = household(&[]);
    // Blank lines of each kind (`\r\n`, a lone `\r`, spaces, tabs, a form feed): NDJSON
    // and JSON count `\n`, CSV counts each of `\n`, `\r\n` and a lone `\r`. JSON
    // allows blanks before the first line's content too (in CSV they would be its text).
    let blank = "\n  \r\n\t\n\x0c\n \r \n".repeat(20);
    let (newlines, csv_breaks) = (5 * 20, 6 * 20);
    for bom in ["", "\u{feff}"] {
        let cases = [
            (
                format!("{bom}{blank}  {{\"mpid\":1}}\nx\n"),
                Format::Ndjson,
                newlines + 2,
            ),
            (
                format!("{bom}{blank}\t[{{\"mpid\":1}},\n{{\"mpid\":x}}]"),
                Format::Json,
                newlines + 2,
            ),
            (
                format!("{bom}{blank}mpid,$address\n1,a\n2,b,c\n"),
                Format::Csv,
                csv_breaks + 3,
            ),
        ];
        for (input, format, line) in cases {
            let p = run(&def, &input);
            assert_eq!(p.format, format, "{input:?}");
            assert_eq!(p.stats.profiles, 1 + u64::from(format == Format::Csv));
            let found: Vec<_> = p.diagnostics.iter().map(|d| d.line).collect();
            assert_eq!(found, [Some(line)], "{format:?} {bom:?}: {p:#?}");
        }
    }
    // Blanks alone are an empty NDJSON input, however long.
    let p = run(&def, &blank);
    assert_eq!((p.format, p.stats), (Format::Ndjson, Default::default()));
    // A blank start with no line feed, too long to hold while the format is unknown
    // (every reader reads it then): the same previews and lines, cut anywhere.
    let long = " \t\r".repeat(22_000);
    for (input, line) in [
        (format!("{long}{{\"mpid\":1}}\nx\n"), 2),
        (format!("{long}[{{\"mpid\":1}},\n{{\"mpid\":x}}]"), 2),
        (format!("{long}mpid,$address\n1,a\n2,b,c\n"), 22_000 + 3),
    ] {
        let p = run(&def, &input);
        let found: Vec<_> = p.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(found, [Some(line)], "{:?}: {p:#?}", p.format);
        for size in [1000, 70_000] {
            let mut session = PreviewSession::new(&def, &PreviewOptions::default());
            for chunk in input.as_bytes().chunks(size) {
                session.push(chunk);
            }
            assert_eq!(session.finish(), p, "in chunks of {size}");
        }
    }
    assert_eq!(run(&def, &long).stats, Default::default());
    // A header after a BOM and blank lines of each kind, detected or named: its findings
    // name its own line.
    let csv = PreviewOptions {
        format: Format::Csv,
        ..PreviewOptions::default()
    };
    for blank in ["\n\n", "\r\n\r\n", "\r\r", " \r\t\n"] {
        for options in [&PreviewOptions::default(), &csv] {
            let input = format!("\u{feff}{blank}name,$address\n1,a\n");
            let p = run_with(&def, &input, options);
            let found: Vec<_> = p
                .diagnostics
                .iter()
                .map(|d| (d.code.as_str(), d.line))
                .collect();
            assert_eq!(found[0], ("missing_mpid_column", Some(3)), "{input:?}");
        }
    }
}

#[test]
fn max_diagnostics_caps_the_list_and_counts_the_rest() {
    let def = household(&[]);
    let input = "{\"mpid\":1}\nx\nx\nx\nx\nx\n";
    let options = PreviewOptions {
        max_diagnostics: 2,
        ..PreviewOptions::default()
    };
    let p = run_with(&def, input, &options);
    assert_eq!(p.diagnostics.len(), 2);
    assert_eq!(p.diagnostics_suppressed, 3);
    assert_eq!(p.stats.skipped, 5);
    assert_eq!(p.stats.profiles, 1);
    let text = serde_json::to_value(&p).unwrap();
    assert_eq!(text["diagnosticsSuppressed"], json!(3));
    let p = run(&def, input);
    assert_eq!(p.diagnostics.len(), 5);
    assert_eq!(p.diagnostics_suppressed, 0);

    // Findings about groups, made at the end, count against the cap too.
    let def = household(&[("ltv", Aggregation::Sum)]);
    let records: Vec<Value> = (0..10)
        .flat_map(|g| {
            let address = format!("{g} Overflow Street");
            [2 * g, 2 * g + 1].map(|mpid| json!({"mpid": mpid, "$address": address, "ltv": 1e308}))
        })
        .collect();
    let p = run_with(&def, &ndjson(&records), &options);
    assert_eq!(diagnostics_with(&p, "non_finite_result").len(), 2);
    assert_eq!((p.diagnostics.len(), p.diagnostics_suppressed), (2, 8));
}

#[test]
fn groups_follow_their_first_member_and_members_input_order() {
    let def = household(&[]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 5, "$address": "B Street 2"}),
            json!({"mpid": 3, "$address": "A Street 1"}),
            json!({"mpid": 9, "$address": "C Street 3"}),
            json!({"mpid": 1, "$address": "A Street 1"}),
            json!({"mpid": 2, "$address": "C Street 3"}),
            json!({"mpid": 4, "$address": "B Street 2"}),
        ]),
    );
    let keys: Vec<&str> = p.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["B Street 2", "A Street 1", "C Street 3"]);
    assert_eq!(members(&p, "A Street 1"), ["3", "1"]);
    assert_eq!(members(&p, "C Street 3"), ["9", "2"]);
}

#[test]
fn preview_serializes_with_camel_case_names() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "has_dog": true}),
            json!({"mpid": 2, "$address": HOME}),
        ]),
    );
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["groupId"], json!("household"));
    assert_eq!(v["stats"]["groupedProfiles"], json!(2));
    assert_eq!(
        v["groups"][0],
        json!({"key": HOME, "members": ["1", "2"], "attributes": {"household:has_dog": true}})
    );
}

// ---------------------------------------------------------------------------------------
// Audiences

fn audience_input() -> String {
    ndjson(&[
        json!({"mpid": 1, "$address": "1 Elm Street", "has_dog": true, "ltv": 10,
               "tags": ["a", "b"], "name": "Jane Doe"}),
        json!({"mpid": 2, "$address": "1 Elm Street", "ltv": "5", "name": "John Doe"}),
        json!({"mpid": 3, "$address": "2 Oak Avenue", "has_dog": false, "ltv": 100, "name": "Ann"}),
        json!({"mpid": 4, "$address": "2 Oak Avenue", "ltv": 1}),
        json!({"mpid": 5, "ltv": 50, "has_dog": "TRUE", "tags": ["b"]}),
    ])
}

fn matching(conditions: &[(&str, &str, Option<Value>)]) -> Vec<String> {
    let def = household(&[
        ("has_dog", Aggregation::BooleanOr),
        ("ltv", Aggregation::Sum),
    ]);
    let conditions: Vec<Condition> = conditions
        .iter()
        .map(|(a, o, v)| Condition {
            attribute: (*a).into(),
            operator: (*o).into(),
            value: v.clone(),
        })
        .collect();
    let result = preview_audience(
        &def,
        audience_input().as_bytes(),
        &conditions,
        &AudienceOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{conditions:?}: {e}"));
    assert_eq!(result.total, 5);
    assert_eq!(result.matched, result.mpids.len() as u64);
    result.mpids
}

#[test]
fn audience_operators_over_inherited_attributes() {
    let t = Some(json!(true));
    assert_eq!(
        matching(&[("household:has_dog", "=", t.clone())]),
        ["1", "2"]
    );
    // decision: `!=` does not match a profile without the attribute.
    assert_eq!(
        matching(&[("household:has_dog", "!=", t.clone())]),
        ["3", "4"]
    );
    assert_eq!(
        matching(&[("household:ltv", "=", Some(json!(15)))]),
        ["1", "2"]
    );
    assert_eq!(
        matching(&[("household:ltv", ">", Some(json!(15)))]),
        ["3", "4"]
    );
    assert_eq!(
        matching(&[("household:ltv", ">=", Some(json!("15")))]),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        matching(&[("household:ltv", "<", Some(json!(101)))]),
        ["1", "2"]
    );
    assert_eq!(
        matching(&[("household:ltv", "<=", Some(json!(101)))]),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        matching(&[("household:has_dog", "exists", None)]),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        matching(&[("household:has_dog", "not_exists", None)]),
        ["5"]
    );
}

#[test]
fn audience_operators_over_own_attributes() {
    // Own values are coerced as aggregations coerce them: "TRUE" is true, "5" is 5.
    assert_eq!(matching(&[("has_dog", "=", Some(json!(true)))]), ["1", "5"]);
    assert_eq!(matching(&[("ltv", ">", Some(json!(20)))]), ["3", "5"]);
    assert_eq!(matching(&[("ltv", "<=", Some(json!(5)))]), ["2", "4"]);
    assert_eq!(matching(&[("name", "=", Some(json!("Ann")))]), ["3"]);
    assert_eq!(
        matching(&[("name", "=", Some(json!("ann")))]),
        Vec::<String>::new()
    );
    assert_eq!(matching(&[("name", "!=", Some(json!("Ann")))]), ["1", "2"]);
    assert_eq!(
        matching(&[("name", "contains", Some(json!("Doe")))]),
        ["1", "2"]
    );
    assert_eq!(
        matching(&[("tags", "contains", Some(json!("b")))]),
        ["1", "5"]
    );
    assert_eq!(matching(&[("tags", "contains", Some(json!("a")))]), ["1"]);
    assert_eq!(matching(&[("name", "exists", None)]), ["1", "2", "3"]);
    assert_eq!(matching(&[("name", "not_exists", None)]), ["4", "5"]);
    // All conditions must hold, own and inherited together.
    assert_eq!(
        matching(&[
            ("household:has_dog", "=", Some(json!(true))),
            ("ltv", ">=", Some(json!(10))),
        ]),
        ["1"]
    );
}

#[test]
fn audience_rejects_unknown_operators_and_caps_mpids() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let input = audience_input();
    let conditions = [
        Condition {
            attribute: "has_dog".into(),
            operator: "exists".into(),
            value: None,
        },
        Condition {
            attribute: "has_dog".into(),
            operator: "~".into(),
            value: Some(json!(1)),
        },
    ];
    let err = preview_audience(
        &def,
        input.as_bytes(),
        &conditions,
        &AudienceOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.index, 1);
    assert!(err.message.contains('~'), "{}", err.message);
    let no_attribute = [Condition {
        attribute: String::new(),
        operator: "exists".into(),
        value: None,
    }];
    let err = preview_audience(
        &def,
        input.as_bytes(),
        &no_attribute,
        &AudienceOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.index, 0);

    let everyone = [Condition {
        attribute: "ltv".into(),
        operator: "exists".into(),
        value: None,
    }];
    let options = AudienceOptions {
        limit: 2,
        ..AudienceOptions::default()
    };
    let result = preview_audience(&def, input.as_bytes(), &everyone, &options).unwrap();
    assert_eq!((result.total, result.matched), (5, 5));
    assert_eq!(result.mpids, ["1", "2"]);
}

#[test]
fn audiences_search_inherited_arrays_item_by_item() {
    // An inherited value is read as the preview prints it: `12.50` inherited is 12.5.
    let def = household(&[("tags", Aggregation::Latest), ("n", Aggregation::Sum)]);
    let input = ndjson(&[
        json!({"mpid": 1, "$address": HOME, "tags": [12.50, "x", true, {"k": 1}], "n": 2}),
        json!({"mpid": 2, "$address": HOME, "n": 3}),
        json!({"mpid": 3, "$address": "9 Elm Road", "tags": ["x"]}),
    ]);
    let matching = |operator: &str, attribute: &str, value: Value| {
        let condition = Condition {
            attribute: attribute.into(),
            operator: operator.into(),
            value: Some(value),
        };
        preview_audience(
            &def,
            input.as_bytes(),
            &[condition],
            &AudienceOptions::default(),
        )
        .unwrap()
        .mpids
    };
    let tags = "household:tags";
    let none: [&str; 0] = [];
    assert_eq!(matching("contains", tags, json!("x")), ["1", "2"]);
    assert_eq!(matching("contains", tags, json!(12.5)), ["1", "2"]);
    assert_eq!(matching("contains", tags, json!("12.5")), ["1", "2"]);
    assert_eq!(matching("contains", tags, json!("12.50")), none);
    assert_eq!(matching("contains", tags, json!(true)), ["1", "2"]);
    assert_eq!(matching("contains", tags, json!({"k": 1})), ["1", "2"]);
    assert_eq!(matching("contains", tags, json!("y")), none);
    // An inherited number compares numerically, and by its printed text with a string.
    assert_eq!(matching("=", "household:n", json!(5)), ["1", "2"]);
    assert_eq!(matching("=", "household:n", json!("5")), ["1", "2"]);
    assert_eq!(matching(">", "household:n", json!(4.5)), ["1", "2"]);
}

#[test]
fn audiences_compare_a_number_by_its_json_text() {
    // decision (README, Audiences): `=`/`!=` with a string compare a number attribute by
    // its JSON text, as keys are: `12.50` is "12.50", not "12.5"; array items likewise.
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    let input = [
        r#"{"mpid":1,"price":12.50,"$address":"123 Main St"}"#,
        r#"{"mpid":2,"price":1e3,"$address":"123 Main St"}"#,
        r#"{"mpid":3,"price":-0}"#,
        r#"{"mpid":4,"tags":[12.50,"x"],"price":1e400}"#,
        r#"{"mpid":5,"note":"cost 1000 usd","tags":[1e400]}"#,
    ]
    .map(|r| format!("{r}\n"))
    .concat();
    let matching = |attribute: &str, operator: &str, value: Value| {
        let condition = Condition {
            attribute: attribute.into(),
            operator: operator.into(),
            value: Some(value),
        };
        let result = preview_audience(
            &def,
            input.as_bytes(),
            &[condition],
            &AudienceOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{attribute} {operator}: {e}"));
        result.mpids
    };
    let none: [&str; 0] = [];
    assert_eq!(matching("price", "=", json!("12.50")), ["1"]);
    assert_eq!(matching("price", "=", json!("12.5")), none);
    assert_eq!(matching("price", "=", json!("1e3")), ["2"]);
    assert_eq!(matching("price", "=", json!("1000.0")), none);
    assert_eq!(matching("price", "=", json!("-0")), ["3"]);
    assert_eq!(matching("price", "=", json!("1e400")), ["4"]);
    assert_eq!(matching("price", "!=", json!("12.50")), ["2", "3", "4"]);
    // Numerically, as before.
    assert_eq!(matching("price", "=", json!(12.5)), ["1"]);
    assert_eq!(matching("price", "=", json!(1000)), ["2"]);
    assert_eq!(matching("price", ">", json!(0)), ["1", "2"]);
    // The source attribute reads the same as the group key it forms.
    assert_eq!(matching("$address", "=", json!("123 Main St")), ["1", "2"]);
    assert_eq!(matching("tags", "contains", json!("12.50")), ["4"]);
    assert_eq!(matching("tags", "contains", json!("12.5")), none);
    assert_eq!(matching("tags", "contains", json!(12.5)), ["4"]);
    assert_eq!(matching("tags", "contains", json!("1e400")), ["5"]);
    assert_eq!(matching("tags", "contains", json!("x")), ["4"]);
    // A number searched in a string as the preview prints it: 1000, not 1000.0.
    let thousand: Value = serde_json::from_str("1e3").unwrap();
    assert_eq!(matching("note", "contains", thousand), ["5"]);
}

#[test]
fn audience_exists_takes_no_value() {
    let def = household(&[]);
    for operator in ["exists", "not_exists"] {
        let condition = Condition {
            attribute: "ltv".into(),
            operator: operator.into(),
            value: Some(json!(false)),
        };
        let err =
            preview_audience(&def, b"", &[condition], &AudienceOptions::default()).unwrap_err();
        assert_eq!(err.index, 0);
        assert!(err.message.contains("takes no value"), "{}", err.message);
    }
}

#[test]
fn csv_lines_are_physical_lines_counting_the_header_and_quoted_breaks() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    for newline in ["\n", "\r\n"] {
        let input = [
            "mpid,$address,has_dog",
            "1,a,maybe",
            "2,\"two\nlines\",maybe",
            "3,c,maybe",
        ]
        .join(newline)
            + newline;
        let p = run(&def, &input);
        let lines: Vec<(Option<&str>, Option<u64>)> = p
            .diagnostics
            .iter()
            .map(|d| (d.mpid.as_deref(), d.line))
            .collect();
        assert_eq!(
            lines,
            [
                (Some("1"), Some(2)),
                (Some("2"), Some(3)),
                (Some("3"), Some(5))
            ],
            "line break {newline:?}"
        );
    }
}

#[test]
fn read_all_returns_the_times_latest_uses() {
    // Profile API shape, flat shape, and the same records as a JSON array.
    let records = [
        json!({"mpid": 1, "updated_at": "2024-01-02T00:00:00Z", "last_stored_timestamp_ms": 1704067200000_i64,
               "user_attribute_timestamps": {"country": "2024-03-01T00:00:00Z", "pet": 1704067200001_i64, "gone": null},
               "user_attributes": {"$address": HOME, "country": "US"}}),
        json!({"mpid": "2", "$address": HOME, "country": "DE", "updated_at": null,
               "last_stored_timestamp_ms": "1704067200000",
               "user_attribute_timestamps": {"country": "2023-01-01T00:00:00Z"}}),
        json!({"mpid": 3, "$address": HOME}),
    ];
    let as_array = Value::Array(records.to_vec()).to_string();
    for (input, format) in [(ndjson(&records), Format::Ndjson), (as_array, Format::Json)] {
        let (profiles, diagnostics) = read_all(input.as_bytes(), format);
        assert!(diagnostics.is_empty(), "{format:?}: {diagnostics:?}");
        assert_eq!(profiles.len(), 3, "{format:?}");
        let [api, flat, none] = &profiles[..] else {
            unreachable!()
        };
        assert_eq!(
            Value::Object(api.attribute_timestamps.clone()),
            json!({"country": "2024-03-01T00:00:00Z", "pet": 1704067200001_i64}),
            "{format:?}"
        );
        assert_eq!(api.updated_at, Some(json!("2024-01-02T00:00:00Z")));
        assert_eq!(api.last_stored_timestamp_ms, Some(json!(1704067200000_i64)));
        assert_eq!(
            Value::Object(flat.attribute_timestamps.clone()),
            json!({"country": "2023-01-01T00:00:00Z"})
        );
        // Times are not attributes in the flat shape; a null time is absent.
        assert_eq!(
            Value::Object(flat.attributes.clone()),
            json!({"$address": HOME, "country": "DE"})
        );
        assert_eq!(flat.updated_at, None);
        assert_eq!(flat.last_stored_timestamp_ms, Some(json!("1704067200000")));
        assert!(none.attribute_timestamps.is_empty());
        assert_eq!(
            (&none.updated_at, &none.last_stored_timestamp_ms),
            (&None, &None)
        );
        // Serialized, a profile without times has no time fields; older JSON still reads.
        assert_eq!(
            serde_json::to_value(none).unwrap(),
            json!({"mpid": "3", "attributes": {"$address": HOME}})
        );
        let back: group_identity::profiles::FullProfile =
            serde_json::from_value(serde_json::to_value(api).unwrap()).unwrap();
        assert_eq!(&back, api);
    }

    // CSV: the two time columns (cells are strings; an empty cell is absent).
    let input = "mpid,$address,updated_at,last_stored_timestamp_ms\n\
                 1,123 Main St,2024-01-02T00:00:00Z,\n\
                 2,123 Main St,,1704067200000\n";
    let (profiles, diagnostics) = read_all(input.as_bytes(), Format::Csv);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(profiles[0].updated_at, Some(json!("2024-01-02T00:00:00Z")));
    assert_eq!(profiles[0].last_stored_timestamp_ms, None);
    assert_eq!(profiles[1].updated_at, None);
    assert_eq!(
        profiles[1].last_stored_timestamp_ms,
        Some(json!("1704067200000"))
    );
    assert!(profiles.iter().all(|p| p.attribute_timestamps.is_empty()));
    assert_eq!(
        Value::Object(profiles[1].attributes.clone()),
        json!({"$address": HOME})
    );
}

// ---------------------------------------------------------------------------------------
// Valid JSON that no double holds, values that break a sum, wrongly shaped records

/// Profiles whose numbers are beyond a double's range (valid JSON, which serde_json alone
/// refuses to type), in NDJSON and in a JSON array: `(line, record)` pairs.
const HUGE_NUMBERS: [(u64, &str); 7] = [
    (
        1,
        r#"{"mpid":1,"user_attributes":{"$address":"123 Main St","ltv":1,"country":"US"}}"#,
    ),
    (
        2,
        r#"{"mpid":2,"user_attributes":{"$address":"123 Main St","ltv":1e400,"country":[1,-1e999]}}"#,
    ),
    (
        3,
        r#"{"mpid":3,"user_attributes":{"$address":"123 Main St","ltv":2,"country":"DE"},"user_attribute_timestamps":{"country":1e400}}"#,
    ),
    (
        4,
        r#"{"mpid":1e400,"user_attributes":{"$address":"123 Main St","ltv":100}}"#,
    ),
    (
        5,
        r#"{"mpid":5,"user_attributes":{"$address":1e400,"ltv":-2e308}}"#,
    ),
    (6, r#"{"mpid":6,"$address":1e400,"ltv":"1e400","visits":7}"#),
    (
        7,
        r#"{"mpid":7,"user_attributes":{"$address":"9 Elm Road"},"user_attribute_timestamps":-1e400}"#,
    ),
];

#[test]
fn a_number_beyond_a_double_leaves_out_the_value_not_the_record() {
    let def = household(&[("ltv", Aggregation::Sum), ("country", Aggregation::Latest)]);
    let lines: Vec<&str> = HUGE_NUMBERS.iter().map(|(_, r)| *r).collect();
    let ndjson_input = lines.iter().map(|r| format!("{r}\n")).collect::<String>();
    // The array puts each record on its own line too, so lines match the NDJSON ones.
    let array_input = format!("[{}]", lines.join(",\n"));
    for (input, format) in [(ndjson_input, Format::Ndjson), (array_input, Format::Json)] {
        let p = run(&def, &input);
        assert_eq!(p.format, format);
        // Every record was read: only the one whose mpid is not an integer is skipped.
        assert_eq!(p.stats.profiles, 6, "{format:?}: {:?}", p.diagnostics);
        assert_eq!(p.stats.skipped, 1);
        assert_eq!(members(&p, HOME), ["1", "2", "3"]);
        // The key is the number's JSON text, as for any number.
        assert_eq!(members(&p, "1e400"), ["5", "6"]);
        // 1 + 2: the sum leaves 1e400 out. Profile 3's own time is unusable, so it falls
        // back to no time at all, older than nothing: the later record wins the tie.
        assert_eq!(attr(&p, HOME, "household:ltv"), Some(&json!(3)));
        assert_eq!(attr(&p, HOME, "household:country"), Some(&json!("DE")));
        assert_eq!(attr(&p, "1e400", "household:ltv"), None);
        let found = |code: &str| -> Vec<(u64, String, String)> {
            diagnostics_with(&p, code)
                .iter()
                .map(|d| {
                    (
                        d.line.unwrap_or_default(),
                        d.mpid.clone().unwrap_or_default(),
                        d.attribute.clone().unwrap_or_default(),
                    )
                })
                .collect()
        };
        let uncoercible = found("uncoercible_value");
        for expected in [
            (2, "2", "ltv"),
            (2, "2", "country"),
            (5, "5", "ltv"),
            (6, "6", "ltv"),
        ] {
            let expected = (expected.0, expected.1.to_string(), expected.2.to_string());
            assert!(
                uncoercible.contains(&expected),
                "{format:?}: {uncoercible:?}"
            );
        }
        assert_eq!(uncoercible.len(), 4, "{uncoercible:?}");
        // Times that are a bare number, even one no double holds, are only not an
        // object of times.
        assert_eq!(
            found("invalid_timestamp"),
            [
                (3, "3".to_string(), "country".to_string()),
                (7, "7".to_string(), "user_attribute_timestamps".to_string())
            ]
        );
        assert_eq!(found("invalid_mpid").len(), 1);
        assert_eq!(diagnostics_with(&p, "invalid_mpid")[0].line, Some(4));
        assert!(!codes(&p).contains(&"invalid_json"), "{:?}", p.diagnostics);
    }
}

#[test]
fn whole_reads_keep_a_profile_whose_times_are_a_number_beyond_a_double() {
    let input = concat!(
        r#"{"mpid":1,"user_attributes":{"a":"x"},"user_attribute_timestamps":1e400}"#,
        "\n",
        r#"{"mpid":2,"user_attributes":{"a":"y"},"user_attribute_timestamps":{"a":1e400}}"#,
        "\n",
        // Still not JSON: the first error, with its column, is what is said.
        r#"{"mpid":3,"user_attribute_timestamps":1e400,"user_attributes":{"a":x}}"#,
        "\n",
    );
    let (profiles, diagnostics) = read_all(input.as_bytes(), Format::Ndjson);
    let mpids: Vec<&str> = profiles.iter().map(|p| p.mpid.as_str()).collect();
    assert_eq!(mpids, ["1", "2"]);
    let found: Vec<_> = diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column))
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_timestamp", Some(1), None),
            ("invalid_json", Some(3), Some(43))
        ],
        "{diagnostics:?}"
    );
}

#[test]
fn a_result_beyond_a_double_is_not_set_and_warned_but_a_passing_overflow_is_not_lost() {
    let def = household(&[("ltv", Aggregation::Sum), ("visits", Aggregation::Average)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "ltv": 1e308, "visits": 1e308}),
            json!({"mpid": 2, "$address": HOME, "ltv": 1e308, "visits": 1e308}),
            // The running sum passes the double range; the total comes back into it.
            json!({"mpid": 3, "$address": "9 Elm Road", "ltv": 1e308}),
            json!({"mpid": 4, "$address": "9 Elm Road", "ltv": 1e308}),
            json!({"mpid": 5, "$address": "9 Elm Road", "ltv": -1.5e308}),
        ]),
    );
    // 2e308 is no double: not set, and said once, for the group's attribute.
    assert_eq!(attr(&p, HOME, "household:ltv"), None);
    let warned = diagnostics_with(&p, "non_finite_result");
    assert_eq!(warned.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(warned[0].level, Level::Warning);
    assert_eq!(warned[0].line, None);
    assert_eq!(warned[0].attribute.as_deref(), Some("ltv"));
    assert!(
        warned[0].message.contains("household:ltv"),
        "{}",
        warned[0].message
    );
    // The mean of two 1e308s is 1e308, though their sum is not a double.
    assert_eq!(attr(&p, HOME, "household:visits"), Some(&json!(1e308)));
    assert_eq!(attr(&p, "9 Elm Road", "household:ltv"), Some(&json!(5e307)));
    assert!(!codes(&p).contains(&"uncoercible_value"));
}

#[test]
fn large_integral_results_print_without_a_fraction() {
    let def = household(&[("ltv", Aggregation::Sum)]);
    let p = run(
        &def,
        &ndjson(&[
            json!({"mpid": 1, "$address": HOME, "ltv": 4503599627370496_i64}),
            json!({"mpid": 2, "$address": HOME, "ltv": 4503599627370496_i64}),
        ]),
    );
    let sum = attr(&p, HOME, "household:ltv").map(|v| v.to_string());
    assert_eq!(sum.as_deref(), Some("9007199254740992"));
}

#[test]
fn wrongly_shaped_user_attributes_skip_the_record_and_wrongly_shaped_times_only_the_times() {
    // decision: `user_attributes` that is neither an object nor null leaves the profile
    // unreadable (`invalid_record`); a `user_attribute_timestamps` of the wrong shape only
    // costs the per-attribute times (`invalid_timestamp`), whatever the definition.
    let input = [
        r#"{"mpid":1,"user_attributes":{"$address":"123 Main St","country":"US"}}"#,
        r#"{"mpid":2,"user_attributes":["123 Main St"]}"#,
        r#"{"mpid":3,"user_attributes":{"$address":"123 Main St","country":"DE"},"user_attribute_timestamps":7,"updated_at":5}"#,
        r#"{"mpid":4,"user_attributes":null}"#,
        r#"{"mpid":5,"user_attributes":{"$address":"123 Main St","country":"FR"},"user_attribute_timestamps":"x"}"#,
    ]
    .map(|r| format!("{r}\n"))
    .concat();
    for def in [
        household(&[("country", Aggregation::Latest)]),
        household(&[]),
    ] {
        let wants_times = !def.attributes.is_empty();
        let p = run(&def, &input);
        let skipped: Vec<_> = diagnostics_with(&p, "invalid_record")
            .iter()
            .map(|d| (d.level, d.line))
            .collect();
        assert_eq!(skipped, [(Level::Error, Some(2))]);
        assert_eq!(p.stats.skipped, 1);
        // null is the same as absent: profile 4 is read, with no key.
        assert_eq!((p.stats.profiles, p.stats.no_key), (4, 1));
        assert_eq!(members(&p, HOME), ["1", "3", "5"]);
        let times: Vec<_> = diagnostics_with(&p, "invalid_timestamp")
            .iter()
            .map(|d| (d.line, d.mpid.clone(), d.attribute.clone()))
            .collect();
        if wants_times {
            let expected = |line: u64, mpid: &str| {
                let attribute = Some("user_attribute_timestamps".to_string());
                (Some(line), Some(mpid.to_string()), attribute)
            };
            assert_eq!(times, [expected(3, "3"), expected(5, "5")]);
            // Profile 3 still has its updated_at, the only time there is.
            assert_eq!(attr(&p, HOME, "household:country"), Some(&json!("DE")));
        } else {
            assert!(times.is_empty(), "{times:?}");
        }
    }
}

#[test]
fn a_repeated_user_attributes_or_timestamps_key_uses_its_last_value() {
    let def = household(&[("ltv", Aggregation::Sum), ("country", Aggregation::Latest)]);
    let input = [
        // The second user_attributes has no ltv: 1000 is not the record's.
        r#"{"mpid":1,"user_attributes":{"$address":"123 Main St","ltv":1000},"user_attributes":{"$address":"123 Main St","country":"X"}}"#,
        r#"{"mpid":2,"user_attributes":{"$address":"123 Main St","ltv":1,"country":"Y"},"updated_at":50}"#,
        // The last user_attributes is null: the record is flat, and has no key there.
        r#"{"mpid":3,"user_attributes":{"$address":"9 Elm Road"},"user_attributes":null}"#,
        r#"{"mpid":4,"$address":"9 Elm Road"}"#,
        // The last timestamps object has no time for country: Z has none.
        r#"{"mpid":5,"user_attributes":{"$address":"7 Oak Lane","country":"Z"},"user_attribute_timestamps":{"country":100},"user_attribute_timestamps":{}}"#,
        r#"{"mpid":6,"user_attributes":{"$address":"7 Oak Lane","country":"W"},"updated_at":50}"#,
    ]
    .map(|r| format!("{r}\n"))
    .concat();
    let p = run(&def, &input);
    assert_eq!(members(&p, HOME), ["1", "2"]);
    assert_eq!(attr(&p, HOME, "household:ltv"), Some(&json!(1)));
    // X has no time, Y has one: Y is newer.
    assert_eq!(attr(&p, HOME, "household:country"), Some(&json!("Y")));
    assert_eq!(p.stats.no_key, 1);
    assert_eq!(
        attr(&p, "7 Oak Lane", "household:country"),
        Some(&json!("W"))
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn a_broken_array_at_a_line_break_is_placed_at_the_end_of_that_line() {
    let def = household(&[]);
    let input = "[{\"mpid\":1,\"$address\":\"123 Main St\"},\n{\"mpid\":2,\n\"$address\":tru\n}]";
    let p = run(&def, input);
    let broken = diagnostics_with(&p, "invalid_json");
    assert_eq!(broken.len(), 1, "{:?}", p.diagnostics);
    // `"$address":tru` is 14 bytes: the break that cuts `true` short is column 15.
    assert_eq!((broken[0].line, broken[0].column), (Some(3), Some(15)));
    assert!(
        broken[0].message.contains("expected true, false or null"),
        "{}",
        broken[0].message
    );
    assert_eq!(p.stats.profiles, 1);
}

#[test]
fn csv_lines_are_counted_at_every_kind_of_line_end() {
    let def = household(&[("visits", Aggregation::Sum)]);
    // Old Mac exports end lines with a lone CR; the lines must still count.
    let cr_only = "mpid,$address,visits\r1,123 Main St,x\r2,123 Main St,y\r";
    // A quoted cell holding a lone CR and a CRLF, then a CRLF-ended row.
    let mixed = "mpid,$address,visits\r\n1,\"12\r3\r\nMain\",x\r\n2,123 Main St,y\r\n";
    // A cell ending in a CR next to one starting with an LF: two breaks, not one CRLF.
    let split = "mpid,$address,visits\n1,\"123 Main St\r\",\"\nx\"\n2,123 Main St,y\n";
    for (input, lines) in [(cr_only, [2, 3]), (mixed, [2, 5]), (split, [2, 5])] {
        let p = run(&def, input);
        let found: Vec<_> = diagnostics_with(&p, "uncoercible_value")
            .iter()
            .map(|d| d.line)
            .collect();
        assert_eq!(found, lines.map(Some), "{input:?}");
        assert_eq!(p.stats.profiles, 2);
    }
}

#[test]
fn a_case_variant_whose_last_value_is_null_is_not_counted() {
    let def = household(&[]);
    let input = [
        r#"{"mpid":1,"$Address":"123 Main St","$Address":null}"#,
        r#"{"mpid":2,"user_attributes":{"$Address":"123 Main St","$Address":null}}"#,
        r#"{"mpid":3,"$Address":null,"$Address":"9 Elm Road"}"#,
    ]
    .map(|r| format!("{r}\n"))
    .concat();
    let p = run(&def, &input);
    let case = diagnostics_with(&p, "source_attribute_case");
    assert_eq!(case.len(), 1, "{:?}", p.diagnostics);
    assert!(
        case[0].message.contains("1 profile(s)"),
        "{}",
        case[0].message
    );
}

#[test]
fn a_csv_quote_that_never_closes_is_said() {
    let def = household(&[]);
    let unclosed = "mpid,$address\n1,\"12345 a\n2,12345 b\n3,12345 b\n";
    let p = run(&def, unclosed);
    // csv-core reads the rest into the open cell: one profile, and now a warning.
    assert_eq!(p.stats.profiles, 1);
    let said: Vec<_> = diagnostics_with(&p, "unclosed_quote")
        .iter()
        .map(|d| (d.level, d.line))
        .collect();
    assert_eq!(said, [(Level::Warning, Some(2))]);
    // Closed quotes, doubled quotes inside them and quotes inside unquoted cells are fine.
    let fine = "mpid,$address\n1,\"12 \"\"Main\"\" St\"\n2,12 \"Main\" St\n3,\"a\"b\n4,\"\"\n";
    let p = run(&def, fine);
    assert_eq!(p.stats.profiles, 4);
    assert!(
        !codes(&p).contains(&"unclosed_quote"),
        "{:?}",
        p.diagnostics
    );
    // After a byte order mark the quotes are read as csv-core reads them: a header that
    // opens with a quoted cell is fine, and one that opens a quote for good is said.
    let fine = "\u{feff}\"a,\",mpid,$address\n1,2,12345\n2,3,12345\n";
    let p = run(&def, fine);
    assert_eq!(p.stats.groups, 1);
    assert!(
        !codes(&p).contains(&"unclosed_quote"),
        "{:?}",
        p.diagnostics
    );
    let unclosed = "\u{feff}\"mpid,$address\n1,12345\n";
    let said: Vec<_> = diagnostics_with(&run(&def, unclosed), "unclosed_quote")
        .iter()
        .map(|d| d.line)
        .collect();
    assert_eq!(said, [Some(1)]);
}

#[test]
fn element_positions_give_each_array_record_its_place_as_its_line() {
    let def = household(&[("ltv", Aggregation::Sum)]);
    // One line, as JSON.stringify writes an array: lines say nothing.
    let input = concat!(
        r#"[{"mpid":1,"$address":"123 Main St"},{"mpid":1,"$address":"123 Main St"},"#,
        r#"{"mpid":3,"$address":"123 Main St","ltv":"lots"},{"$address":"x"},7]"#
    );
    let lines = |p: &Preview| -> Vec<(String, Option<u64>)> {
        p.diagnostics
            .iter()
            .map(|d| (d.code.clone(), d.line))
            .collect()
    };
    let expected = |lines: [u64; 4]| {
        let codes = [
            "duplicate_mpid",
            "uncoercible_value",
            "missing_mpid",
            "not_an_object",
        ];
        codes
            .iter()
            .zip(lines)
            .map(|(c, l)| (c.to_string(), Some(l)))
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&run(&def, input)), expected([1, 1, 1, 1]));
    let options = PreviewOptions {
        element_positions: true,
        ..PreviewOptions::default()
    };
    let p = run_with(&def, input, &options);
    assert_eq!(lines(&p), expected([2, 3, 4, 5]));
    // Other formats are as they were.
    let ndjson_input = "{\"mpid\":1}\n{\"mpid\":1}\n";
    assert_eq!(
        lines(&run_with(&def, ndjson_input, &options)),
        lines(&run(&def, ndjson_input))
    );
}

// ---------------------------------------------------------------------------------------
// Values a record uses that no reading holds

#[test]
fn a_grouping_key_with_a_lone_surrogate_skips_its_record_as_any_used_value_does() {
    let def = household(&[("has_dog", Aggregation::BooleanOr)]);
    for (key, dog) in [
        (r#""\ud800 12 Main St""#, "true"),
        (r#""12345 Main""#, r#""\udc00""#),
    ] {
        let input = format!(
            "{{\"mpid\":1,\"$address\":{key},\"has_dog\":{dog}}}\n{{\"mpid\":2,\"$address\":\"12345 Main\"}}\n"
        );
        let p = run(&def, &input);
        assert_eq!((p.stats.profiles, p.stats.skipped), (1, 1), "{input}");
        assert_eq!(p.stats.no_key, 0, "{input}");
        let skipped = diagnostics_with(&p, "invalid_record");
        assert_eq!(skipped.len(), 1, "{input}");
        assert_eq!(skipped[0].line, Some(1));
        assert!(
            skipped[0].message.contains("surrogate"),
            "{}",
            skipped[0].message
        );
    }
}

#[test]
fn csv_time_columns_are_read_only_when_a_latest_needs_them() {
    let input = b"mpid,$address,updated_at\n1,12345 Main,\xFF\n2,12345 Main,x\n";
    let no_times = household(&[("has_dog", Aggregation::BooleanOr)]);
    let p = preview_groups(&no_times, input, &PreviewOptions::default());
    assert_eq!((p.stats.skipped, p.stats.groups), (0, 1));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    // With a `latest`, the time is used: its cell is read, and the row it cannot read goes.
    let timed = household(&[("country", Aggregation::Latest)]);
    let p = preview_groups(&timed, input, &PreviewOptions::default());
    assert_eq!(p.stats.skipped, 1);
    assert_eq!(codes(&p), ["invalid_utf8"]);
}

#[test]
fn a_time_that_is_none_is_reported_for_every_profile_grouped_or_not() {
    let def = household(&[("country", Aggregation::Latest)]);
    let record = |mpid: u32, address: &str| json!({ "mpid": mpid, "$address": address, "country": "US", "updated_at": "yesterday" });
    // No key, a short key, a singleton, a group, and an oversized key's eleventh member.
    let mut records = vec![
        json!({ "mpid": 1, "country": "US", "updated_at": "yesterday" }),
        record(2, "ab"),
        record(3, "Alone Avenue 1"),
        record(4, HOME),
        record(5, HOME),
    ];
    records.extend((6..=16).map(|mpid| record(mpid, "Crowded Court 1")));
    let p = run(&def, &ndjson(&records));
    let warned: Vec<_> = diagnostics_with(&p, "invalid_timestamp")
        .iter()
        .map(|d| d.mpid.clone().unwrap_or_default())
        .collect();
    let every: Vec<String> = (1..=16).map(|m| m.to_string()).collect();
    assert_eq!(warned, every);
}

#[test]
fn a_csv_row_of_a_quoted_empty_cell_is_a_row_not_a_blank_line() {
    let def = household(&[]);
    let input = |row: &str| format!("mpid,$address\n{row}\n2,12345 Main\n   \n3,12345 Main\n");
    for row in ["\"\"", "\"\",\"\""] {
        let p = run(&def, &input(row));
        assert_eq!((p.stats.profiles, p.stats.skipped), (2, 1), "{row}");
        let missing = diagnostics_with(&p, "missing_mpid");
        assert_eq!(missing.len(), 1, "{row}");
        assert_eq!(missing[0].line, Some(2), "{row}");
    }
    // Quoted spaces are a string: an mpid of two spaces, with no key.
    let p = run(&def, &input("\"  \""));
    assert_eq!(
        (p.stats.profiles, p.stats.no_key, p.stats.skipped),
        (3, 1, 0)
    );
}

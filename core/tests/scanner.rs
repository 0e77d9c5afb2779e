//! The fast record scanner against the serde path: whatever the scanner takes, serde must
//! take too and read exactly the same slots (`check_against_serde`).

use group_identity::generator::{generate, GeneratorOptions};
use group_identity::profiles::check_against_serde;
use group_identity::Format;
use proptest::prelude::*;

fn agree(text: &str) -> bool {
    match check_against_serde(text.as_bytes()) {
        Ok(scanned) => scanned,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

#[test]
fn generated_profiles_take_the_fast_path_and_agree() {
    let mut bytes = Vec::new();
    generate(&GeneratorOptions::new(7, 3000, Format::Ndjson), &mut bytes);
    let text = String::from_utf8(bytes).expect("the generator writes UTF-8");
    let (mut lines, mut fast) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        fast += usize::from(agree(line));
    }
    // Only records with escapes (or broken on purpose) are left to serde.
    assert!(fast * 100 >= lines * 95, "{fast} of {lines} lines scanned");
}

#[test]
fn edge_cases_agree() {
    let cases = [
        r#"{}"#,
        r#" { } "#,
        r#"{"mpid":1}"#,
        r#"{"mpid":-0}"#,
        r#"{"mpid":-0.0,"k":"abcde"}"#,
        r#"{"mpid":18446744073709551615}"#,
        r#"{"mpid":18446744073709551616}"#,
        r#"{"mpid":-9223372036854775808}"#,
        r#"{"mpid":-9223372036854775809}"#,
        r#"{"mpid":99999999999999999999,"s":10000000000000000000}"#,
        r#"{"mpid":-18446744073709551615,"s":9999999999999999999}"#,
        r#"{"mpid":1,"s":0.000000000000001,"a":123456789.123456,"b":12345678.87654321}"#,
        r#"{"mpid":1,"s":0.1,"a":123456789.12345,"b":1e2,"l":1E-2}"#,
        r#"{"mpid":1,"s":1234567890.1234567,"a":0.30000000000000004}"#,
        r#"{"mpid":1,"s":1e400}"#,
        r#"{"mpid":1,"s":01}"#,
        r#"{"mpid":1,"s":1.}"#,
        r#"{"mpid":1,"s":-}"#,
        r#"{"mpid":1,"k":12345.50}"#,
        r#"{"mpid":1,"k":"x\"y"}"#,
        r#"{"mpid":1,"k\u0000":1}"#,
        r#"{"mpid":1,"k":[1,{"a":[]}],"s":{"x":null}}"#,
        r#"{"mpid":1,"user_attributes":null,"k":"flat key"}"#,
        r#"{"mpid":1,"user_attributes":{},"k":"flat key"}"#,
        r#"{"mpid":1,"user_attributes":[],"k":"flat key"}"#,
        r#"{"mpid":1,"user_attributes":{"k":"a","k":"b","K":"c"}}"#,
        r#"{"mpid":1,"user_attribute_timestamps":{"l":5,"k":"x"},"l":1}"#,
        r#"{"mpid":1,"user_attribute_timestamps":7}"#,
        r#"{"mpid":1,"updated_at":"2024-01-01T00:00:00Z","last_stored_timestamp_ms":1}"#,
        r#"{"mpid":1,"Key":null,"KEY":"v"}"#,
        r#"{"mpid":1,"k":"a",}"#,
        r#"{"mpid":1,"k":"a"} x"#,
        r#"{"mpid":1 "k":"a"}"#,
        r#"{"mpid":1,"k":"tab	inside"}"#,
        "{\"mpid\":1,\"k\":\"\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\"}",
        "{\"mpid\":1,\r\n\t\"k\" : \"spaced\" }",
        "{\"mpid\":1,\u{c}\"k\":\"form feed\"}",
    ];
    for case in cases {
        agree(case);
    }
    let deep = format!(
        "{{\"mpid\":1,\"x\":{}{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    agree(&deep);
    // Invalid UTF-8 inside a skipped string and inside a wanted one; bytes that end a run
    // of digits inside and after eight-byte blocks.
    for text in [
        &b"{\"mpid\":1,\"x\":\"\xff\"}"[..],
        b"{\"mpid\":1,\"k\":\"\xff\"}",
        b"{\"mpid\":1234567\xfa}",
        b"{\"mpid\":123456789012\xff5}",
        b"{\"mpid\":12345678901234567:}",
        b"{\"mpid\":1,\"s\":12345678.123456789/}",
    ] {
        if let Err(e) = check_against_serde(text) {
            panic!("{text:?}: {e}");
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "mpid",
            "user_attributes",
            "user_attribute_timestamps",
            "updated_at",
            "last_stored_timestamp_ms",
            "k",
            "K",
            "Key",
            "b",
            "s",
            "a",
            "l",
            "$address",
            "$ADDRESS",
            "ltv",
            "has_dog",
            "country",
            "visits",
            "k\\u0000",
            "\\u006b",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_$]{0,10}",
    ]
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-0",
            "-0.0",
            "1.5e3",
            "2E-2",
            "18446744073709551616",
            "-9223372036854775808",
            "123456789012345678901234",
            "0.1234567890123456789",
            "1e400",
            "12345.50",
            "\"\"",
            "\"a\\\"b\"",
            "\"\\u00e9t\\u00e9\"",
            "\"2024-01-01T00:00:00Z\"",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|x| x.to_string()),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| format!("{x:e}")),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        "[ -~é]{0,12}".prop_map(|s| format!("\"{s}\"")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..5).prop_map(|members| {
                let body: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// A record with white space of every kind JSON allows (and one it does not) between
/// tokens, then maybe one byte changed.
fn record() -> impl Strategy<Value = Vec<u8>> {
    let space = prop::sample::select(vec!["", "", "", " ", "\n", "\t", "\r", " \u{c}"]);
    (
        prop::collection::vec((key(), value(), space.clone(), space), 0..8),
        any::<bool>(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..3u8,
    )
        .prop_map(|(members, mutate, at, byte, how)| {
            let body: Vec<String> = members
                .into_iter()
                .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
                .collect();
            let mut text = format!("{{{}}}", body.join(",")).into_bytes();
            if mutate && !text.is_empty() {
                let i = at.index(text.len());
                match how {
                    0 => {
                        text.remove(i);
                    }
                    1 => text.insert(i, byte),
                    _ => {
                        if let Some(b) = text.get_mut(i) {
                            *b = byte;
                        }
                    }
                }
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_record_agrees(text in record()) {
        if let Err(e) = check_against_serde(&text) {
            panic!("{:?}: {e}", String::from_utf8_lossy(&text));
        }
    }
}

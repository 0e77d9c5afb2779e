//! The exported API called exactly as JavaScript calls it (JS objects and strings in, JS
//! values out), with each result read back into the engine's own types and compared to what
//! the engine gives directly: the boundary is tested, not only the engine.
//!
//! Runs in Node by default and in headless Chromium with `WASM_BINDGEN_USE_BROWSER=1`
//! (see mk/package.mk).
#![cfg(target_arch = "wasm32")]

use group_identity::{
    AudienceOptions, AudienceResult, Condition, GroupDefinition, Issue, Mode, Preview,
    PreviewOptions, Validation,
};
use group_identity_web::windows::Feeder;
use js_sys::{Reflect, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const DEFINITION: &str = r#"{
  "id": "household",
  "source_user_attribute": "$address",
  "attributes": [
    { "id": "has_dog", "type": "boolean_or" },
    { "id": "ltv", "type": "sum" },
    { "id": "visits", "type": "average" },
    { "id": "country", "type": "latest" }
  ]
}"#;

/// Profiles with multi-byte characters everywhere (keys, values), 64-bit mpids, a broken
/// line and a repeated mpid.
const NDJSON: &str = concat!(
    r#"{"mpid":"-9223372036854775808","$address":"Straße 12, Köln","has_dog":true,"ltv":10,"visits":1,"country":"DE"}"#,
    "\n",
    r#"{"mpid":"9007199254740993","$address":"Straße 12, Köln","has_dog":"false","ltv":"2.5","visits":3,"country":"DE 🇩🇪"}"#,
    "\n",
    r#"{"mpid":9223372036854775807,"$address":"🏠🏡 Emoji Lane 7","ltv":1}"#,
    "\n",
    r#"{"mpid":"4","$address":"🏠🏡 Emoji Lane 7","has_dog":"yes"}"#,
    "\n",
    "not json at all\n",
    r#"{"mpid":"4","$address":"somewhere else"}"#,
    "\n",
    r#"{"mpid":"5","$address":"abc"}"#,
    "\n",
    r#"{"mpid":"6"}"#,
    "\n",
);

fn js(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

/// Reads a returned JS value back into a Rust type through its JSON.
fn back<T: DeserializeOwned>(value: &JsValue) -> T {
    let text: String = JSON::stringify(value).expect("stringify").into();
    serde_json::from_str(&text).expect("result has the declared shape")
}

/// Compares a returned preview with the engine's. `Preview` read back through JSON loses the
/// order of inherited attributes (a JSON map), so that order is checked on the JS object.
fn assert_preview(got: &JsValue, expected: &Preview, context: &str) {
    let sorted = |preview: &Preview| {
        let mut preview = preview.clone();
        for group in &mut preview.groups {
            group.attributes.0.sort_by(|a, b| a.0.cmp(&b.0));
        }
        preview
    };
    let back_in_rust: Preview = back(got);
    assert_eq!(sorted(&back_in_rust), sorted(expected), "{context}");
    let groups: js_sys::Array = prop(got, "groups").unchecked_into();
    for (index, group) in expected.groups.iter().enumerate() {
        let attributes = prop(&groups.get(index as u32), "attributes");
        let keys: Vec<String> = js_sys::Object::keys(attributes.unchecked_ref::<js_sys::Object>())
            .iter()
            .filter_map(|key| key.as_string())
            .collect();
        let want: Vec<String> = group
            .attributes
            .0
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(keys, want, "{context}: attributes in definition order");
    }
}

fn definition() -> GroupDefinition {
    GroupDefinition::from_value(&serde_json::from_str(DEFINITION).expect("JSON")).expect("valid")
}

fn prop(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).expect("property")
}

fn name_of(error: &JsValue) -> String {
    prop(error, "name").as_string().unwrap_or_default()
}

fn message_of(error: &JsValue) -> String {
    prop(error, "message").as_string().unwrap_or_default()
}

// ---- validateDefinition ------------------------------------------------------------------

#[wasm_bindgen_test]
fn validate_object_and_text_match_the_engine() {
    let bad = r#"{"id":"ab","source_user_attribute":"","attributes":[{"id":"x","type":"max"}],"atributes":[]}"#;
    // Issues come in the order fields are written, for objects as for text.
    let expected = group_identity::validate_definition_text(bad, &Mode::Create);
    assert!(!expected.valid);
    let from_object: Validation =
        back(&group_identity_web::validate_definition(js(bad), JsValue::UNDEFINED).expect("data"));
    let from_text: Validation = back(
        &group_identity_web::validate_definition(bad.into(), JsValue::UNDEFINED).expect("data"),
    );
    assert_eq!(from_object, expected);
    assert_eq!(from_text, expected);
}

#[wasm_bindgen_test]
fn validate_reads_mode_and_group_id() {
    let body = r#"{"id":"other","source_user_attribute":"$address","attributes":[]}"#;
    let mode = Mode::Update {
        group_id: "household".to_owned(),
    };
    let expected = group_identity::validate_definition_text(body, &mode);
    let got: Validation = back(
        &group_identity_web::validate_definition(
            js(body),
            js(r#"{"mode":"update","groupId":"household","unknownKey":1}"#),
        )
        .expect("data"),
    );
    assert_eq!(got, expected);
    assert!(got.errors.iter().any(|issue| issue.code == "id_mismatch"));

    let patch: Validation = back(
        &group_identity_web::validate_definition(js(body), js(r#"{"mode":"patch"}"#))
            .expect("data"),
    );
    assert!(patch
        .errors
        .iter()
        .any(|issue| issue.code == "not_allowed_in_patch"));
}

#[wasm_bindgen_test]
fn validate_broken_json_text_is_data() {
    let got: Validation = back(
        &group_identity_web::validate_definition("{\"id\": ".into(), JsValue::UNDEFINED)
            .expect("data"),
    );
    assert!(!got.valid);
    assert_eq!(
        got.errors.first().map(|i| i.code.as_str()),
        Some("invalid_json")
    );
}

#[wasm_bindgen_test]
fn validate_wrong_argument_types_throw_type_errors() {
    let cases = [
        (JsValue::UNDEFINED, JsValue::UNDEFINED, "definition"),
        (js(DEFINITION), js(r#"{"mode":"put"}"#), "options.mode"),
        (
            js(DEFINITION),
            js(r#"{"mode":"update"}"#),
            "options.groupId",
        ),
        (js(DEFINITION), js(r#"{"mode":5}"#), "options.mode"),
        (js(DEFINITION), "create".into(), "options must be an object"),
    ];
    for (definition, options, needle) in cases {
        let error = group_identity_web::validate_definition(definition, options)
            .expect_err("wrong types throw");
        assert!(error.is_instance_of::<js_sys::TypeError>(), "{needle}");
        assert!(
            message_of(&error).contains(needle),
            "{}",
            message_of(&error)
        );
    }
}

// ---- errors --------------------------------------------------------------------------------

#[wasm_bindgen_test]
fn invalid_definition_throws_definition_error_with_issues() {
    let bad = r#"{"id":"household","source_user_attribute":"$address","attributes":[{"id":"a","type":"median"},{"id":"a","type":"sum"}]}"#;
    let expected: Vec<Issue> = group_identity::validate_definition_text(bad, &Mode::Create).errors;
    for definition in [js(bad), JsValue::from_str(bad)] {
        let error = group_identity_web::preview_groups(definition, "".into(), JsValue::UNDEFINED)
            .expect_err("invalid definition throws");
        assert!(error.is_instance_of::<js_sys::Error>());
        assert_eq!(name_of(&error), "DefinitionError");
        let issues: Vec<Issue> = back(&prop(&error, "issues"));
        assert_eq!(issues, expected);
        assert!(message_of(&error).starts_with("invalid group definition: /attributes/"));
    }
    let broken = group_identity_web::PreviewSession::new("{".into(), JsValue::UNDEFINED)
        .err()
        .expect("broken JSON throws");
    assert_eq!(name_of(&broken), "DefinitionError");
    let issues: Vec<Issue> = back(&prop(&broken, "issues"));
    assert_eq!(
        issues.first().map(|i| i.code.as_str()),
        Some("invalid_json")
    );
}

#[wasm_bindgen_test]
fn wrong_option_types_throw_type_errors() {
    for (options, needle) in [
        (r#"{"format":"xml"}"#, "options.format"),
        (r#"{"normalizeKeys":"yes"}"#, "options.normalizeKeys"),
        (r#"{"maxDiagnostics":-1}"#, "options.maxDiagnostics"),
        (r#"{"maxListed":1.5}"#, "options.maxListed"),
    ] {
        let error = group_identity_web::preview_groups(js(DEFINITION), "".into(), js(options))
            .expect_err("wrong option throws");
        assert!(error.is_instance_of::<js_sys::TypeError>());
        assert!(
            message_of(&error).contains(needle),
            "{}",
            message_of(&error)
        );
    }
    let error =
        group_identity_web::preview_groups(js(DEFINITION), JsValue::from_f64(1.0), JsValue::NULL)
            .expect_err("profiles of the wrong type throw");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert!(message_of(&error).contains("profiles must be"));
}

// ---- previewGroups -------------------------------------------------------------------------

fn engine_preview(input: &str, options: &PreviewOptions) -> Preview {
    group_identity::preview_groups(&definition(), input.as_bytes(), options)
}

#[wasm_bindgen_test]
fn preview_of_text_and_bytes_matches_the_engine() {
    let expected = engine_preview(NDJSON, &PreviewOptions::default());
    let text_js =
        group_identity_web::preview_groups(js(DEFINITION), NDJSON.into(), JsValue::UNDEFINED)
            .expect("preview");
    assert_preview(&text_js, &expected, "text");
    let bytes = Uint8Array::from(NDJSON.as_bytes());
    let bytes_js =
        group_identity_web::preview_groups(DEFINITION.into(), bytes.into(), JsValue::NULL)
            .expect("preview");
    assert_preview(&bytes_js, &expected, "bytes");
    // 64-bit mpids come back exactly, as strings.
    let from_text: Preview = back(&text_js);
    let members: Vec<String> = from_text
        .groups
        .iter()
        .flat_map(|g| g.members.iter().map(|m| m.to_text()))
        .collect();
    for id in [
        "-9223372036854775808",
        "9007199254740993",
        "9223372036854775807",
    ] {
        assert!(members.iter().any(|m| m == id), "{id} in {members:?}");
    }
}

/// Groups cross the boundary in columns (web/src/groups.rs): every kind of key, id and
/// inherited value must come out exactly as `JSON.parse` of the engine's JSON gives it.
#[wasm_bindgen_test]
fn groups_of_every_kind_of_value_come_out_as_json_would_give_them() {
    let definition = r#"{"id":"grp","source_user_attribute":"k","attributes":[
        {"id":"b","type":"boolean_or"},{"id":"s","type":"sum"},
        {"id":"a","type":"average"},{"id":"l","type":"latest"}]}"#;
    let ndjson = [
        r#"{"mpid":1,"k":"ascii key","l":"plain"}"#,
        r#"{"mpid":2,"k":"ascii key","b":true,"s":9007199254740993,"l":"quote \" and \\ and \n"}"#,
        r#"{"mpid":"ünïcode id 😀","k":"ключ 😀 键","l":{"nested":[1,"two",null]}}"#,
        r#"{"mpid":"another","k":"ключ 😀 键","s":-0.5,"a":"1e3","l":[true,false]}"#,
        r#"{"mpid":3,"k":"𝒳𝒴𝒵 keys","l":18446744073709551615,"b":"false"}"#,
        r#"{"mpid":4,"k":"𝒳𝒴𝒵 keys","l":false,"a":2.5}"#,
        r#"{"mpid":5,"k":"latest true","l":true}"#,
        r#"{"mpid":6,"k":"latest true","l":-12.75}"#,
        r#"{"mpid":7,"k":"no values here"}"#,
        r#"{"mpid":-9223372036854775808,"k":"no values here","s":"x"}"#,
    ]
    .join("\n");
    let js_groups = prop(
        &group_identity_web::preview_groups(js(definition), ndjson.as_str().into(), JsValue::NULL)
            .expect("preview"),
        "groups",
    );
    let engine = group_identity::preview_groups(
        &GroupDefinition::from_text(definition).expect("valid"),
        ndjson.as_bytes(),
        &PreviewOptions::default(),
    );
    assert_eq!(engine.groups.len(), 5);
    let as_json = js(&serde_json::to_string(&engine.groups).expect("JSON"));
    let text = |value: &JsValue| String::from(JSON::stringify(value).expect("stringify"));
    assert_eq!(text(&js_groups), text(&as_json));
}

#[wasm_bindgen_test]
fn preview_options_reach_the_engine() {
    let options = PreviewOptions {
        normalize_keys: true,
        max_diagnostics: 1,
        max_listed: 0,
        ..PreviewOptions::default()
    };
    let expected = engine_preview(NDJSON, &options);
    let got = group_identity_web::preview_groups(
        js(DEFINITION),
        NDJSON.into(),
        js(r#"{"normalizeKeys":true,"maxDiagnostics":1,"maxListed":0,"format":"ndjson","extra":true}"#),
    )
    .expect("preview");
    assert_preview(&got, &expected, "options");
}

#[wasm_bindgen_test]
fn array_of_objects_is_read_as_json() {
    let array = r#"[
      {"mpid":"1","$address":"12 Long Street","ltv":2},
      {"mpid":"2","$address":"12 Long Street","ltv":3.5,"has_dog":true},
      {"mpid":"3","user_attributes":{"$address":"12 Long Street"}}
    ]"#;
    let expected = engine_preview(
        &JSON::stringify(&js(array))
            .expect("stringify")
            .as_string()
            .unwrap_or_default(),
        &PreviewOptions {
            format: group_identity::Format::Json,
            ..PreviewOptions::default()
        },
    );
    // `format` given by the caller does not apply to an array: it is always JSON.
    let got =
        group_identity_web::preview_groups(js(DEFINITION), js(array), js(r#"{"format":"csv"}"#))
            .expect("preview");
    assert_preview(&got, &expected, "array");
    assert_eq!(expected.stats.profiles, 3);
}

#[wasm_bindgen_test]
fn diagnostics_of_an_array_of_objects_name_the_element() {
    // Elements 2, 4 and 5 (1-based) are left out; undefined is null, as JSON.stringify has
    // it in an array.
    let array = js_sys::Array::new();
    array.push(&js(r#"{"mpid":"1","$address":"12 Long Street"}"#));
    array.push(&js(r#"{"mpid":"1","$address":"12 Long Street"}"#));
    array.push(&js(
        r#"{"mpid":"3","$address":"12 Long Street","ltv":"lots"}"#,
    ));
    array.push(&js(r#"{"$address":"12 Long Street"}"#));
    array.push(&JsValue::UNDEFINED);
    let got = group_identity_web::preview_groups(js(DEFINITION), array.into(), JsValue::UNDEFINED)
        .expect("preview");
    let preview: serde_json::Value = back(&got);
    let lines: Vec<(String, u64)> = preview["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let code = d["code"].as_str().unwrap_or_default().to_string();
            (code, d["line"].as_u64().unwrap_or_default())
        })
        .collect();
    let expected = [
        ("duplicate_mpid", 2),
        ("uncoercible_value", 3),
        ("missing_mpid", 4),
        ("not_an_object", 5),
    ]
    .map(|(code, line)| (code.to_string(), line));
    assert_eq!(lines, expected);
}

// ---- PreviewSession ------------------------------------------------------------------------

#[wasm_bindgen_test]
fn session_in_split_chunks_matches_one_shot() {
    let expected = engine_preview(NDJSON, &PreviewOptions::default());
    let bytes = NDJSON.as_bytes();
    // Every chunk size from 1 byte up: splits land inside every multi-byte character.
    for size in [1, 2, 3, 5, 7, 64] {
        let mut session =
            group_identity_web::PreviewSession::new(js(DEFINITION), JsValue::UNDEFINED)
                .expect("session");
        for chunk in bytes.chunks(size) {
            session.push(Uint8Array::from(chunk).into()).expect("push");
        }
        assert_eq!(session.bytes_read(), bytes.len() as f64);
        let got = session.finish().expect("finish");
        assert_preview(&got, &expected, &format!("chunk size {size}"));
    }
}

#[wasm_bindgen_test]
fn session_mixing_strings_and_bytes_matches_one_shot() {
    let expected = engine_preview(NDJSON, &PreviewOptions::default());
    let mut session =
        group_identity_web::PreviewSession::new(DEFINITION.into(), JsValue::UNDEFINED)
            .expect("session");
    // Split on a char boundary; send the first part as text, the rest as bytes.
    let middle = (NDJSON.len() / 2..NDJSON.len())
        .find(|&i| NDJSON.is_char_boundary(i))
        .unwrap_or(NDJSON.len());
    let (head, tail) = NDJSON.split_at(middle);
    session.push(head.into()).expect("push text");
    session
        .push(Uint8Array::from(tail.as_bytes()).into())
        .expect("push bytes");
    let got = session.finish().expect("finish");
    assert_preview(&got, &expected, "mixed");
    let again = session.finish().expect_err("finished twice");
    assert!(message_of(&again).contains("already finished"));
    let push = session.push("x".into()).expect_err("push after finish");
    assert!(message_of(&push).contains("already finished"));
    let wrong = group_identity_web::PreviewSession::new(DEFINITION.into(), JsValue::UNDEFINED)
        .expect("session")
        .push(JsValue::from_f64(3.0))
        .expect_err("a number is not a chunk");
    assert!(wrong.is_instance_of::<js_sys::TypeError>());
}

/// A finished session that JavaScript has not freed yet holds none of its input: its
/// window buffer is freed at `finish`, and the next session's takes the same memory.
#[wasm_bindgen_test]
fn finished_sessions_keep_no_input_window() {
    let memory = || {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length()
    };
    // A blank line of a megabyte: a window of a megabyte each push.
    let chunk = Uint8Array::new_with_length(1 << 20);
    chunk.fill(b' ', 0, chunk.length());
    chunk.set_index(chunk.length() - 1, b'\n');
    let mut held = Vec::new();
    let mut before = None;
    for _ in 0..12 {
        let mut session =
            group_identity_web::PreviewSession::new(DEFINITION.into(), JsValue::UNDEFINED)
                .expect("session");
        session.push(chunk.clone().into()).expect("push");
        session.finish().expect("finish");
        held.push(session);
        // Measured after the first session, once the allocator has its working set.
        before.get_or_insert_with(memory);
    }
    let grown = memory() - before.unwrap_or_default();
    assert!(
        grown < 4 << 20,
        "12 finished sessions grew memory by {grown} bytes"
    );
}

#[wasm_bindgen_test]
fn tiny_windows_never_split_a_character() {
    let expected = engine_preview(NDJSON, &PreviewOptions::default());
    // Windows of 1 to 5 units/bytes cut through every surrogate pair and UTF-8 sequence.
    for window in 1..=5 {
        let mut session =
            group_identity::PreviewSession::new(&definition(), &PreviewOptions::default());
        let mut feeder = Feeder::with_windows(window, window);
        let pushed = feeder
            .push_chunk(&mut session, &JsValue::from_str(NDJSON))
            .expect("text");
        assert_eq!(pushed, NDJSON.len() as u64);
        assert_eq!(session.finish(), expected, "text window {window}");

        let mut session =
            group_identity::PreviewSession::new(&definition(), &PreviewOptions::default());
        let bytes: JsValue = Uint8Array::from(NDJSON.as_bytes()).into();
        feeder.push_chunk(&mut session, &bytes).expect("bytes");
        assert_eq!(session.finish(), expected, "byte window {window}");
    }
}

// ---- previewAudience -----------------------------------------------------------------------

#[wasm_bindgen_test]
fn audience_matches_the_engine() {
    let conditions = r#"[{"attribute":"household:has_dog","operator":"=","value":true}]"#;
    let parsed: Vec<Condition> = serde_json::from_str(conditions).expect("JSON");
    let options = AudienceOptions {
        limit: 1,
        ..AudienceOptions::default()
    };
    let expected =
        group_identity::preview_audience(&definition(), NDJSON.as_bytes(), &parsed, &options)
            .expect("conditions are valid");
    let got: AudienceResult = back(
        &group_identity_web::preview_audience(
            js(DEFINITION),
            NDJSON.into(),
            js(conditions),
            js(r#"{"limit":1}"#),
        )
        .expect("audience"),
    );
    assert_eq!(got, expected);
}

#[wasm_bindgen_test]
fn bad_conditions_throw_condition_error() {
    for (conditions, index) in [
        (
            r#"[{"attribute":"household:has_dog","operator":"~","value":1}]"#,
            0.0,
        ),
        (
            r#"[{"attribute":"a","operator":"exists"},{"operator":"="}]"#,
            1.0,
        ),
        (r#"[5]"#, 0.0),
    ] {
        let error = group_identity_web::preview_audience(
            js(DEFINITION),
            NDJSON.into(),
            js(conditions),
            JsValue::UNDEFINED,
        )
        .expect_err("bad condition throws");
        assert_eq!(name_of(&error), "ConditionError", "{conditions}");
        assert_eq!(prop(&error, "index").as_f64(), Some(index), "{conditions}");
        assert!(error.dyn_ref::<js_sys::Error>().is_some());
    }
}

#[wasm_bindgen_test]
fn strings_cut_between_the_halves_of_a_surrogate_pair_read_as_one() {
    let expected = engine_preview(NDJSON, &PreviewOptions::default());
    let text = js_sys::JsString::from(NDJSON);
    let units: Vec<u16> = NDJSON.encode_utf16().collect();
    // Every place where a string chunk ends on a high surrogate: a JavaScript `slice`.
    let cuts = (1..units.len()).filter(|&i| (0xD800..0xDC00).contains(&units[i - 1]));
    let mut tried = 0;
    for cut in cuts {
        let mut session =
            group_identity::PreviewSession::new(&definition(), &PreviewOptions::default());
        let mut feeder = Feeder::default();
        let mut pushed = 0;
        for (start, end) in [(0, cut), (cut, units.len())] {
            let chunk: JsValue = text.slice(start as u32, end as u32).into();
            pushed += feeder.push_chunk(&mut session, &chunk).expect("text");
        }
        pushed += feeder.finish(&mut session);
        assert_eq!(pushed, NDJSON.len() as u64, "cut at unit {cut}");
        assert_eq!(session.finish(), expected, "cut at unit {cut}");
        tried += 1;
    }
    assert!(tried >= 4, "{tried}");

    // A high surrogate that no low one follows is U+FFFD, as JavaScript encodes it, both
    // at the end and before a chunk of bytes.
    let lone = js_sys::JsString::from("{\"mpid\":\"1\",\"$address\":\"ab")
        .concat(&js_sys::JsString::from_char_code1(0xD83C));
    let rest = "cde\"}\n";
    let whole = "{\"mpid\":\"1\",\"$address\":\"ab\u{FFFD}cde\"}\n";
    let expected = engine_preview(whole, &PreviewOptions::default());
    let mut session =
        group_identity::PreviewSession::new(&definition(), &PreviewOptions::default());
    let mut feeder = Feeder::default();
    let mut pushed = feeder.push_chunk(&mut session, &lone.into()).expect("text");
    let bytes: JsValue = Uint8Array::from(rest.as_bytes()).into();
    pushed += feeder.push_chunk(&mut session, &bytes).expect("bytes");
    pushed += feeder.finish(&mut session);
    assert_eq!(pushed, whole.len() as u64);
    assert_eq!(session.finish(), expected);
}

/// The generator gives the same bytes for a seed in wasm32 as natively (where
/// `core/src/generator.rs` checks the same digest): the playground's sample data is what
/// `generate` writes.
#[wasm_bindgen_test]
fn generated_bytes_match_the_native_ones() {
    use group_identity::generator::{fixed_sample_digest, FIXED_SAMPLE_DIGEST};
    assert_eq!(fixed_sample_digest(), FIXED_SAMPLE_DIGEST);
}

// ---- definitions as bytes, warnings, audience options, lone surrogates in objects -----------

#[wasm_bindgen_test]
fn definition_bytes_are_read_as_utf8_json() {
    let bytes: JsValue = Uint8Array::from(DEFINITION.as_bytes()).into();
    let validation: Validation = back(
        &group_identity_web::validate_definition(bytes.clone(), JsValue::UNDEFINED)
            .expect("validates"),
    );
    assert!(validation.valid, "{validation:?}");
    let preview = group_identity_web::preview_groups(bytes, NDJSON.into(), JsValue::UNDEFINED)
        .expect("a preview of a definition given as bytes");
    assert_preview(
        &preview,
        &engine_preview(NDJSON, &PreviewOptions::default()),
        "definition as bytes",
    );

    let mut broken = DEFINITION.as_bytes().to_vec();
    broken.insert(7, 0xC0);
    let broken: JsValue = Uint8Array::from(broken.as_slice()).into();
    let validation: Validation = back(
        &group_identity_web::validate_definition(broken.clone(), JsValue::UNDEFINED)
            .expect("bytes that are not UTF-8 are data"),
    );
    assert!(!validation.valid);
    assert_eq!(validation.errors[0].code, "invalid_json");
    assert!(
        validation.errors[0].message.contains("byte offset 7"),
        "{}",
        validation.errors[0].message
    );
    let error = group_identity_web::to_sql(broken, JsValue::UNDEFINED)
        .expect_err("a definition that is not text throws first");
    assert_eq!(name_of(&error), "DefinitionError");
}

#[wasm_bindgen_test]
fn definition_error_carries_the_warnings_and_the_typo_hint() {
    let typo = r#"{"id":"household","source_user_attribute":"$address","atributes":[{"id":"a","type":"sum"}]}"#;
    let expected = group_identity::validate_definition_text(typo, &Mode::Create);
    let error = group_identity_web::preview_groups(js(typo), "".into(), JsValue::UNDEFINED)
        .expect_err("missing attributes");
    let issues: Vec<Issue> = back(&prop(&error, "issues"));
    let warnings: Vec<Issue> = back(&prop(&error, "warnings"));
    assert_eq!(issues, expected.errors);
    assert_eq!(warnings, expected.warnings);
    let message = message_of(&error);
    assert!(
        message.contains("missing required field \"attributes\"")
            && message.contains("did you mean \"attributes\""),
        "{message}"
    );
}

#[wasm_bindgen_test]
fn audience_ignores_preview_only_options() {
    let conditions = js(r#"[{"attribute":"household:has_dog","operator":"=","value":true}]"#);
    let plain = group_identity_web::preview_audience(
        js(DEFINITION),
        NDJSON.into(),
        conditions.clone(),
        JsValue::UNDEFINED,
    )
    .expect("audience");
    let with_unused = group_identity_web::preview_audience(
        js(DEFINITION),
        NDJSON.into(),
        conditions,
        js(r#"{"maxDiagnostics":"10","maxListed":-1}"#),
    )
    .expect("maxDiagnostics and maxListed are not audience options");
    assert_eq!(
        back::<AudienceResult>(&plain),
        back::<AudienceResult>(&with_unused)
    );
}

#[wasm_bindgen_test]
fn lone_surrogates_in_profile_objects_read_as_in_text() {
    // Built in JavaScript: a Rust string cannot hold a lone surrogate.
    let make = js_sys::Function::new_no_args(
        r#"const half = "\ud83c";
        return [
          { mpid: "1", $address: "Lane " + half, ltv: 1 },
          { mpid: "2", $address: "Lane " + half, ["k" + half]: "\\ud800", ltv: 2 },
        ];"#,
    );
    let profiles = make.call0(&JsValue::NULL).expect("profiles");
    let preview: Preview = back(
        &group_identity_web::preview_groups(js(DEFINITION), profiles, JsValue::UNDEFINED)
            .expect("preview"),
    );
    assert_eq!(preview.stats.skipped, 0, "{:?}", preview.diagnostics);
    assert_eq!(preview.groups.len(), 1);
    assert_eq!(preview.groups[0].key, "Lane \u{FFFD}");
}

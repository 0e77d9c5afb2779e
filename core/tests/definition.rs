//! Definition validation (SPEC section 2): every rule, mode, warning and message shape.

use group_identity::definition::{read_definition, read_definition_text, DefinitionBody};
use group_identity::{
    validate_definition, validate_definition_text, Aggregation, GroupAttribute, GroupDefinition,
    Issue, Mode, Validation,
};
use serde_json::{json, Value};

fn create(value: Value) -> Validation {
    validate_definition(&value, &Mode::Create)
}

fn update(group_id: &str, value: Value) -> Validation {
    validate_definition(
        &value,
        &Mode::Update {
            group_id: group_id.into(),
        },
    )
}

fn patch(value: Value) -> Validation {
    validate_definition(&value, &Mode::Patch)
}

/// (code, path) of each issue, in order.
fn pairs(issues: &[Issue]) -> Vec<(&str, &str)> {
    issues
        .iter()
        .map(|i| (i.code.as_str(), i.path.as_str()))
        .collect()
}

fn only_error(v: &Validation) -> &Issue {
    assert!(!v.valid, "expected invalid: {v:?}");
    assert_eq!(v.errors.len(), 1, "expected one error: {:?}", v.errors);
    &v.errors[0]
}

fn assert_clean(v: &Validation) {
    assert!(v.valid, "expected valid: {v:?}");
    assert!(v.errors.is_empty());
    assert!(
        v.warnings.is_empty(),
        "unexpected warnings: {:?}",
        v.warnings
    );
}

/// A valid create body with the given overrides applied at the top level.
fn body_with(overrides: Value) -> Value {
    let mut body = json!({
        "id": "household",
        "description": "users who share the same physical address",
        "source_user_attribute": "$address",
        "attributes": [{ "id": "has_dog", "type": "boolean_or" }]
    });
    if let (Some(map), Some(extra)) = (body.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
    }
    body
}

fn attrs(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({ "id": format!("attr_{i}"), "type": "latest" }))
            .collect(),
    )
}

// ---- The API reference's own examples ----

#[test]
fn reference_create_body_is_valid() {
    let text = r#"{
  "id": "household",
  "description": "users who share the same physical address",
  "source_user_attribute": "$address",
  "attributes": [
    {
      "id": "has_dog",
      "type": "boolean_or"
    }
  ]
}"#;
    let v = validate_definition_text(text, &Mode::Create);
    assert_clean(&v);
    let (_, body) = read_definition_text(text, &Mode::Create);
    assert_eq!(
        body,
        Some(DefinitionBody {
            id: Some("household".into()),
            description: Some("users who share the same physical address".into()),
            source_user_attribute: Some("$address".into()),
            attributes: Some(vec![GroupAttribute {
                id: "has_dog".into(),
                aggregation: Aggregation::BooleanOr,
            }]),
        })
    );
}

#[test]
fn reference_get_response_is_valid_with_read_only_warnings() {
    let v = create(json!({
      "id": "neustar-household-group",
      "description": "A group of users related by shared Neustar household ID",
      "source_user_attribute": "neustar-household-id",
      "attributes": [{ "id": "has_dog", "type": "boolean_or" }],
      "created_on": "2023-11-13T21:50:17.732Z",
      "created_by": "developer@example.com",
      "last_modified_on": "2023-11-13T21:50:17.732Z",
      "last_modified_by": "developer@example.com"
    }));
    assert!(v.valid, "{v:?}");
    let mut read_only: Vec<&str> = v
        .warnings
        .iter()
        .filter(|w| w.code == "read_only_field")
        .map(|w| w.path.as_str())
        .collect();
    read_only.sort();
    assert_eq!(
        read_only,
        [
            "/created_by",
            "/created_on",
            "/last_modified_by",
            "/last_modified_on"
        ]
    );
    assert_eq!(v.warnings.len(), 4);
    assert!(v.warnings[0].message.contains("set by the server"));
}

#[test]
fn reference_put_body_is_valid_in_update_mode() {
    let value = json!({
      "description": "A group of users related by shared Neustar household ID",
      "source_user_attribute": "neustar-household-id",
      "attributes": [{ "id": "has_dog", "type": "boolean_or" }]
    });
    let mode = Mode::Update {
        group_id: "neustar-household-group".into(),
    };
    let (v, body) = read_definition(&value, &mode);
    assert_clean(&v);
    let body = body.expect("valid body");
    assert_eq!(body.id, None, "id omitted: the caller uses the path's id");
    assert_eq!(
        body.source_user_attribute.as_deref(),
        Some("neustar-household-id")
    );
    // The same body is missing its id in create mode.
    let v = create(value);
    assert_eq!(pairs(&v.errors), [("missing_field", "")]);
    assert!(v.errors[0].message.contains("\"id\""));
}

#[test]
fn reference_patch_body_is_valid_in_patch_mode() {
    let value = json!({
      "attributes": [
        { "id": "has_dog", "type": "boolean_or" },
        { "id": "country", "type": "latest" }
      ]
    });
    let (v, body) = read_definition(&value, &Mode::Patch);
    assert_clean(&v);
    assert_eq!(
        body,
        Some(DefinitionBody {
            attributes: Some(vec![
                GroupAttribute {
                    id: "has_dog".into(),
                    aggregation: Aggregation::BooleanOr
                },
                GroupAttribute {
                    id: "country".into(),
                    aggregation: Aggregation::Latest
                },
            ]),
            ..DefinitionBody::default()
        })
    );
}

// ---- Lengths ----

#[test]
fn group_id_length_boundaries() {
    for (id, code) in [
        ("ab", Some("too_short")),
        ("abc", None),
        (&"a".repeat(32)[..], None),
        (&"a".repeat(33)[..], Some("too_long")),
        ("", Some("too_short")),
    ] {
        let v = create(body_with(json!({ "id": id })));
        match code {
            None => assert_clean(&v),
            Some(code) => {
                let issue = only_error(&v);
                assert_eq!((issue.code.as_str(), issue.path.as_str()), (code, "/id"));
            }
        }
    }
}

#[test]
fn group_id_message_names_limit_and_value() {
    let v = create(body_with(json!({ "id": "ab" })));
    assert_eq!(
        only_error(&v).message,
        r#"group id must be 3 to 32 characters; found 2 ("ab")"#
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    let id = "x".repeat(100_000);
    let v = create(body_with(json!({ "id": id })));
    let message = &only_error(&v).message;
    assert!(message.contains("found 100000"), "{message}");
    assert!(
        message.contains(&format!("\"{}\"…", "x".repeat(40))),
        "{message}"
    );
    assert!(
        message.len() < 200,
        "message not cut: {} bytes",
        message.len()
    );
}

#[test]
fn lengths_count_code_points_not_bytes_or_utf16() {
    let dog = "🐕"; // 4 bytes, 2 UTF-16 units, 1 code point
    assert_clean(&create(body_with(json!({ "id": dog.repeat(32) }))));
    let v = create(body_with(json!({ "id": dog.repeat(33) })));
    let issue = only_error(&v);
    assert_eq!(issue.code, "too_long");
    assert!(issue.message.contains("found 33"), "{}", issue.message);
    assert_clean(&create(body_with(json!({ "id": "🐕🐕🐕" }))));
    assert_eq!(
        only_error(&create(body_with(json!({ "id": "🐕🐕" })))).code,
        "too_short"
    );
    // Attribute ids and descriptions too.
    assert_clean(&create(body_with(
        json!({ "attributes": [{ "id": "é".repeat(223), "type": "sum" }] }),
    )));
    let v = create(body_with(
        json!({ "attributes": [{ "id": "é".repeat(224), "type": "sum" }] }),
    ));
    assert_eq!(pairs(&v.errors), [("too_long", "/attributes/0/id")]);
    assert_clean(&create(body_with(
        json!({ "description": "🏠".repeat(255) }),
    )));
    let v = create(body_with(json!({ "description": "🏠".repeat(256) })));
    assert_eq!(pairs(&v.errors), [("too_long", "/description")]);
}

#[test]
fn description_length_boundaries() {
    assert_clean(&create(body_with(json!({ "description": "" }))));
    assert_clean(&create(body_with(
        json!({ "description": "d".repeat(255) }),
    )));
    let v = create(body_with(json!({ "description": "d".repeat(256) })));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("too_long", "/description")
    );
    assert!(
        issue
            .message
            .starts_with("description must be at most 255 characters; found 256 ("),
        "{}",
        issue.message
    );
}

#[test]
fn description_is_optional_and_null_means_absent() {
    let mut value = body_with(json!({}));
    value.as_object_mut().map(|m| m.remove("description"));
    assert_clean(&create(value));
    let (v, body) = read_definition(&body_with(json!({ "description": null })), &Mode::Create);
    assert_clean(&v);
    assert_eq!(body.and_then(|b| b.description), None);
}

#[test]
fn source_user_attribute_length_boundaries() {
    let v = create(body_with(json!({ "source_user_attribute": "" })));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("too_short", "/source_user_attribute")
    );
    assert_eq!(
        issue.message,
        r#"source_user_attribute must be 1 to 255 characters; found 0 ("")"#
    );
    assert_clean(&create(body_with(json!({ "source_user_attribute": "s" }))));
    assert_clean(&create(body_with(
        json!({ "source_user_attribute": "s".repeat(255) }),
    )));
    let v = create(body_with(
        json!({ "source_user_attribute": "s".repeat(256) }),
    ));
    assert_eq!(pairs(&v.errors), [("too_long", "/source_user_attribute")]);
}

#[test]
fn attribute_id_length_boundaries() {
    for (len, expected) in [
        (0, Some("too_short")),
        (1, None),
        (223, None),
        (224, Some("too_long")),
    ] {
        let v = create(body_with(
            json!({ "attributes": [{ "id": "a".repeat(len), "type": "latest" }] }),
        ));
        match expected {
            None => assert_clean(&v),
            Some(code) => {
                assert_eq!(pairs(&v.errors), [(code, "/attributes/0/id")]);
                assert!(v.errors[0].message.contains("1 to 223 characters"));
                assert!(v.errors[0].message.contains(&format!("found {len}")));
            }
        }
    }
}

// ---- Attributes ----

#[test]
fn every_aggregation_type_is_accepted() {
    let (v, body) = read_definition(
        &body_with(json!({ "attributes": [
            { "id": "a", "type": "latest" },
            { "id": "b", "type": "boolean_or" },
            { "id": "c", "type": "sum" },
            { "id": "d", "type": "average" }
        ] })),
        &Mode::Create,
    );
    assert_clean(&v);
    let types: Vec<Aggregation> = body
        .and_then(|b| b.attributes)
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.aggregation)
        .collect();
    assert_eq!(
        types,
        [
            Aggregation::Latest,
            Aggregation::BooleanOr,
            Aggregation::Sum,
            Aggregation::Average
        ]
    );
}

#[test]
fn unknown_aggregation_is_exact_lower_case_with_suggestion() {
    let v = create(body_with(
        json!({ "attributes": [{ "id": "country", "type": "Latest" }] }),
    ));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("unknown_aggregation", "/attributes/0/type")
    );
    assert!(
        issue.message.contains(r#"found "Latest""#),
        "{}",
        issue.message
    );
    assert!(
        issue.message.contains(r#"did you mean "latest"?"#),
        "{}",
        issue.message
    );
    assert!(issue.message.contains(r#""boolean_or""#));

    let v = create(body_with(
        json!({ "attributes": [{ "id": "x", "type": "median" }] }),
    ));
    let issue = only_error(&v);
    assert_eq!(issue.code, "unknown_aggregation");
    assert!(!issue.message.contains("did you mean"), "{}", issue.message);
}

#[test]
fn ten_attributes_allowed_eleven_too_many() {
    assert_clean(&create(body_with(json!({ "attributes": attrs(10) }))));
    let v = create(body_with(json!({ "attributes": attrs(11) })));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("too_many_attributes", "/attributes")
    );
    assert!(issue.message.contains("at most 10"));
    assert!(issue.message.contains("found 11"));
}

#[test]
fn duplicate_attribute_reported_at_later_occurrence() {
    let v = create(body_with(json!({ "attributes": [
        { "id": "has_dog", "type": "boolean_or" },
        { "id": "country", "type": "latest" },
        { "id": "has_dog", "type": "latest" },
        { "id": "has_dog", "type": "sum" }
    ] })));
    assert_eq!(
        pairs(&v.errors),
        [
            ("duplicate_attribute", "/attributes/2/id"),
            ("duplicate_attribute", "/attributes/3/id")
        ]
    );
    assert!(
        v.errors[0].message.contains("/attributes/0"),
        "{}",
        v.errors[0].message
    );
}

#[test]
fn duplicate_attribute_is_case_sensitive() {
    assert_clean(&create(body_with(json!({ "attributes": [
        { "id": "has_dog", "type": "boolean_or" },
        { "id": "Has_Dog", "type": "boolean_or" }
    ] }))));
}

#[test]
fn attribute_object_needs_id_and_type() {
    let v = create(body_with(
        json!({ "attributes": [{ "id": "has_dog" }, { "type": "sum" }] }),
    ));
    assert_eq!(
        pairs(&v.errors),
        [
            ("missing_field", "/attributes/0"),
            ("missing_field", "/attributes/1")
        ]
    );
    assert!(v.errors[0].message.contains("\"type\""));
    assert!(v.errors[1].message.contains("\"id\""));
}

// ---- missing_field and wrong_type ----

#[test]
fn missing_fields_in_create_mode() {
    let v = create(json!({}));
    assert_eq!(
        pairs(&v.errors),
        [
            ("missing_field", ""),
            ("missing_field", ""),
            ("missing_field", "")
        ]
    );
    let messages: Vec<&str> = v.errors.iter().map(|i| i.message.as_str()).collect();
    assert!(messages[0].contains("\"id\""));
    assert!(messages[1].contains("\"source_user_attribute\""));
    assert!(messages[2].contains("\"attributes\""));
}

#[test]
fn missing_fields_in_update_mode_do_not_include_id() {
    let v = update("household", json!({}));
    let names: Vec<&str> = v.errors.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(
        pairs(&v.errors),
        [("missing_field", ""), ("missing_field", "")]
    );
    assert!(names[0].contains("source_user_attribute"));
    assert!(names[1].contains("attributes"));
}

#[test]
fn missing_attributes_in_patch_mode() {
    let v = patch(json!({}));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("missing_field", "")
    );
    assert!(issue.message.contains("\"attributes\""));
}

#[test]
fn wrong_type_for_every_field() {
    let v = create(json!({
        "id": 12,
        "description": ["x"],
        "source_user_attribute": null,
        "attributes": { "id": "has_dog" }
    }));
    assert_eq!(
        pairs(&v.errors),
        [
            ("wrong_type", "/attributes"),
            ("wrong_type", "/description"),
            ("wrong_type", "/id"),
            ("wrong_type", "/source_user_attribute"),
        ]
    );
    let by_path = |p: &str| {
        v.errors
            .iter()
            .find(|i| i.path == p)
            .map(|i| i.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        by_path("/id"),
        "group id must be a string; found a number (12)"
    );
    assert!(by_path("/source_user_attribute").ends_with("found null"));
    assert!(by_path("/description").ends_with("found an array"));
    assert!(by_path("/attributes").ends_with("found an object"));

    let v = create(body_with(json!({ "attributes": [
        "has_dog",
        { "id": true, "type": 3 },
        { "id": "x", "type": null }
    ] })));
    assert_eq!(
        pairs(&v.errors),
        [
            ("wrong_type", "/attributes/0"),
            ("wrong_type", "/attributes/1/id"),
            ("wrong_type", "/attributes/1/type"),
            ("wrong_type", "/attributes/2/type"),
        ]
    );
    assert!(v.errors[0]
        .message
        .contains(r#"found a string ("has_dog")"#));
    assert!(v.errors[1].message.contains("found a boolean (true)"));
}

// ---- Modes ----

#[test]
fn update_mode_id_may_match_but_not_differ() {
    let (v, body) = read_definition(
        &body_with(json!({})),
        &Mode::Update {
            group_id: "household".into(),
        },
    );
    assert_clean(&v);
    assert_eq!(body.and_then(|b| b.id).as_deref(), Some("household"));

    let v = update("household", body_with(json!({ "id": "Household" })));
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("id_mismatch", "/id")
    );
    assert!(issue.message.contains(r#""Household""#));
    assert!(issue.message.contains(r#""household""#));
}

#[test]
fn update_mode_still_checks_id_length() {
    let v = update("household", body_with(json!({ "id": "ab" })));
    assert_eq!(
        pairs(&v.errors),
        [("too_short", "/id"), ("id_mismatch", "/id")]
    );
}

#[test]
fn patch_mode_allows_attributes_only() {
    let v = patch(json!({
        "id": "household",
        "attributes": [{ "id": "has_dog", "type": "boolean_or" }],
        "source_user_attribute": "$address",
        "created_on": "2023-11-13T21:50:17.732Z",
        "atributes": []
    }));
    let mut paths: Vec<&str> = v
        .errors
        .iter()
        .inspect(|i| assert_eq!(i.code, "not_allowed_in_patch"))
        .map(|i| i.path.as_str())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/atributes", "/created_on", "/id", "/source_user_attribute"]
    );
    // The typo is named as well.
    assert_eq!(pairs(&v.warnings), [("unknown_field", "/atributes")]);
    assert!(v.warnings[0]
        .message
        .contains(r#"did you mean "attributes"?"#));
    assert!(!v.warnings[0].message.contains("ignored"));
    // Not even a null description: the body holds attributes only.
    let v = patch(json!({
        "attributes": [{ "id": "has_dog", "type": "boolean_or" }],
        "description": null
    }));
    assert_eq!(pairs(&v.errors), [("not_allowed_in_patch", "/description")]);
}

#[test]
fn patch_mode_applies_attribute_rules() {
    let v = patch(json!({ "attributes": [
        { "id": "", "type": "Sum" }
    ] }));
    assert_eq!(
        pairs(&v.errors),
        [
            ("too_short", "/attributes/0/id"),
            ("unknown_aggregation", "/attributes/0/type")
        ]
    );
    let v = patch(json!({ "attributes": attrs(11) }));
    assert_eq!(pairs(&v.errors), [("too_many_attributes", "/attributes")]);
    let v = patch(json!({ "attributes": [] }));
    assert!(v.valid);
    assert_eq!(pairs(&v.warnings), [("no_attributes", "/attributes")]);
}

// ---- Warnings ----

#[test]
fn unknown_field_names_closest_known_field() {
    let v = create(json!({
        "id": "household",
        "source_user_attribute": "$address",
        "attributes": [],
        "atributes": [],
        "sourceUserAttribute": "x",
        "zzz": 1
    }));
    assert!(v.valid);
    let unknown: Vec<(&str, &str)> = v
        .warnings
        .iter()
        .filter(|w| w.code == "unknown_field")
        .map(|w| (w.path.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(unknown.len(), 3, "{unknown:?}");
    let message = |p: &str| unknown.iter().find(|(path, _)| *path == p).map(|x| x.1);
    assert!(message("/atributes").is_some_and(|m| m.contains(r#"did you mean "attributes"?"#)));
    assert!(message("/sourceUserAttribute")
        .is_some_and(|m| m.contains(r#"did you mean "source_user_attribute"?"#)));
    assert!(message("/zzz").is_some_and(|m| m.contains("known fields:") && m.contains("\"id\"")));
}

#[test]
fn unknown_field_that_begins_a_known_one_names_it() {
    let v = create(json!({
        "id": "household",
        "source_user_attribute": "$address",
        "attributes": [],
        "desc": "short for description",
        "source": "x",
        "attr": [],
        "last_mod": 1,
        "de": 1
    }));
    // (`json!` keeps keys sorted, so that is the order of the warnings.)
    let suggested: Vec<(&str, Option<&str>)> = v
        .warnings
        .iter()
        .filter(|w| w.code == "unknown_field")
        .map(|w| {
            let named = w.message.split("did you mean ").nth(1);
            (w.path.as_str(), named)
        })
        .collect();
    assert_eq!(
        suggested,
        [
            ("/attr", Some(r#""attributes"?"#)),
            // Two letters are too few to go on.
            ("/de", None),
            ("/desc", Some(r#""description"?"#)),
            ("/last_mod", Some(r#""last_modified_on"?"#)),
            ("/source", Some(r#""source_user_attribute"?"#)),
        ]
    );
}

#[test]
fn unknown_field_inside_attribute() {
    let v = create(body_with(json!({ "attributes": [
        { "id": "a", "type": "latest" },
        { "id": "b", "type": "sum" },
        { "id": "c", "tpye": "sum" }
    ] })));
    assert_eq!(
        pairs(&v.warnings),
        [("unknown_field", "/attributes/2/tpye")]
    );
    assert!(v.warnings[0].message.contains(r#"did you mean "type"?"#));
    assert_eq!(pairs(&v.errors), [("missing_field", "/attributes/2")]);
}

#[test]
fn no_attributes_warns_but_is_valid() {
    let v = create(body_with(json!({ "attributes": [] })));
    assert!(v.valid);
    assert_eq!(pairs(&v.warnings), [("no_attributes", "/attributes")]);
    assert!(v.warnings[0].message.contains("inherit nothing"));
}

#[test]
fn source_in_attributes_warns() {
    let v = create(body_with(json!({ "attributes": [
        { "id": "has_dog", "type": "boolean_or" },
        { "id": "$address", "type": "latest" }
    ] })));
    assert!(v.valid);
    assert_eq!(
        pairs(&v.warnings),
        [("source_in_attributes", "/attributes/1/id")]
    );
    // Source written after the attributes is still seen (text keeps that order).
    let text = r#"{"id":"household","attributes":[{"id":"$address","type":"latest"}],"source_user_attribute":"$address"}"#;
    let v = validate_definition_text(text, &Mode::Create);
    assert_eq!(
        pairs(&v.warnings),
        [("source_in_attributes", "/attributes/0/id")]
    );
}

#[test]
fn ambiguous_id_for_colons() {
    let v = create(body_with(json!({
        "id": "a:b",
        "attributes": [{ "id": "c:d", "type": "latest" }]
    })));
    assert!(v.valid);
    assert_eq!(
        pairs(&v.warnings),
        [
            ("ambiguous_id", "/attributes/0/id"),
            ("ambiguous_id", "/id")
        ]
    );
    assert!(
        v.warnings[0].message.contains(r#""a:b:c:d""#),
        "{}",
        v.warnings[0].message
    );
    // The group id's example uses a real attribute name.
    assert!(
        v.warnings[1].message.contains(r#""a:b:c:d""#),
        "{}",
        v.warnings[1].message
    );
}

#[test]
fn whitespace_in_ids_and_source() {
    let v = create(json!({
        "id": " household",
        "source_user_attribute": "$address\t",
        "attributes": [{ "id": " has_dog ", "type": "boolean_or" }]
    }));
    assert!(v.valid);
    assert_eq!(
        pairs(&v.warnings),
        [
            ("whitespace", "/attributes/0/id"),
            ("whitespace", "/id"),
            ("whitespace", "/source_user_attribute"),
        ]
    );
    assert!(v.warnings[0].message.contains("leading and trailing"));
    assert!(v.warnings[1].message.contains("leading"));
    assert!(v.warnings[2].message.contains(r#""$address\t""#));
    // No warning for inner white space or in the description.
    assert_clean(&create(body_with(
        json!({ "id": "house hold", "description": " x " }),
    )));
}

#[test]
fn duplicate_keys_in_text_use_the_last_value() {
    let text = r#"{"id":"ab","id":"household","source_user_attribute":"$address",
        "attributes":[{"id":"x","type":"nope","type":"sum"}]}"#;
    let (v, body) = read_definition_text(text, &Mode::Create);
    assert!(v.valid, "{v:?}");
    assert_eq!(
        pairs(&v.warnings),
        [
            ("duplicate_field", "/id"),
            ("duplicate_field", "/attributes/0/type")
        ]
    );
    assert_eq!(body.and_then(|b| b.id).as_deref(), Some("household"));
}

// ---- Paths, order, all issues at once ----

#[test]
fn json_pointer_escapes_tilde_and_slash() {
    let v = create(body_with(json!({
        "a/b~c": 1,
        "attributes": [{ "id": "x", "type": "sum", "~/": true }]
    })));
    let mut paths: Vec<&str> = v.warnings.iter().map(|w| w.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/attributes/0/~0~1", "/a~1b~0c"]);
}

#[test]
fn all_issues_reported_at_once_in_document_order() {
    let text = r#"{
  "id": "ab",
  "source_user_atribute": "$address",
  "description": 7,
  "attributes": [
    { "id": "has_dog", "type": "boolean-or" },
    { "id": "has_dog", "type": "sum", "tpye": "x" },
    { "type": "latest" }
  ],
  "created_by": "me"
}"#;
    let v = validate_definition_text(text, &Mode::Create);
    assert!(!v.valid);
    assert_eq!(
        pairs(&v.errors),
        [
            ("too_short", "/id"),
            ("wrong_type", "/description"),
            ("unknown_aggregation", "/attributes/0/type"),
            ("duplicate_attribute", "/attributes/1/id"),
            ("missing_field", "/attributes/2"),
            ("missing_field", ""),
        ]
    );
    assert_eq!(
        pairs(&v.warnings),
        [
            ("unknown_field", "/source_user_atribute"),
            ("unknown_field", "/attributes/1/tpye"),
            ("read_only_field", "/created_by"),
        ]
    );
    assert!(v.errors[2]
        .message
        .contains(r#"did you mean "boolean_or"?"#));
    assert!(v.errors[5].message.contains("source_user_attribute"));
    // Deterministic: the same input gives the same result.
    assert_eq!(v, validate_definition_text(text, &Mode::Create));
}

#[test]
fn value_and_text_agree_on_issues() {
    let value = json!({
        "id": "a",
        "attributes": [{ "id": "", "type": "x" }],
        "zz": 1
    });
    let from_value = create(value.clone());
    let from_text = validate_definition_text(&value.to_string(), &Mode::Create);
    assert_eq!(from_value, from_text);
}

// ---- invalid_json ----

#[test]
fn syntax_error_names_line_and_column() {
    let text = "{\n  \"id\": \"household\",\n  \"attributes\": [,]\n}";
    let v = validate_definition_text(text, &Mode::Create);
    let issue = only_error(&v);
    assert_eq!(
        (issue.code.as_str(), issue.path.as_str()),
        ("invalid_json", "")
    );
    assert!(
        issue.message.contains("line 3, column 18"),
        "{}",
        issue.message
    );
    assert!(v.warnings.is_empty());
}

#[test]
fn misspelt_literal_is_explained() {
    let text = "{\"id\": \"household\",\n \"a\": tru }";
    let issue = only_error(&validate_definition_text(text, &Mode::Create)).clone();
    assert_eq!(
        issue.message,
        "the body is not valid JSON at line 2, column 10: expected true, false or null"
    );
}

#[test]
fn syntax_error_at_a_line_break_names_the_end_of_its_line() {
    for (text, place) in [
        // A raw line break inside a string: the break is the fault.
        ("{\"id\": \"ho\nusehold\"}", "line 1, column 11"),
        // A literal cut short by the line's end, after a two-byte character.
        ("{\n  \"é\": tru\n}", "line 2, column 11"),
        // The text ends after a line break: the start of the empty last line.
        ("{\"id\": \n", "line 2, column 1"),
    ] {
        let issue = only_error(&validate_definition_text(text, &Mode::Create)).clone();
        assert_eq!(issue.code, "invalid_json");
        assert!(issue.message.contains(place), "{text:?}: {}", issue.message);
        assert!(!issue.message.contains("column 0"), "{}", issue.message);
    }
}

#[test]
fn nesting_limit_is_named() {
    let nested = |levels: usize| {
        format!(
            r#"{{"id":"household","source_user_attribute":"s","attributes":[],"x":{}{}}}"#,
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        )
    };
    // The body itself is the first level.
    let v = validate_definition_text(&nested(127), &Mode::Create);
    assert!(v.errors.is_empty(), "{:?}", v.errors);
    let issue = only_error(&validate_definition_text(&nested(128), &Mode::Create)).clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(
        issue.message.ends_with("nested deeper than 127 levels"),
        "{}",
        issue.message
    );
}

#[test]
fn syntax_error_column_counts_characters() {
    // "é" is two bytes; the stray `x` is the 9th character of the line.
    let text = "{\"é\": 1 x}";
    let issue = only_error(&validate_definition_text(text, &Mode::Create)).clone();
    assert!(
        issue.message.contains("line 1, column 9"),
        "{}",
        issue.message
    );
}

#[test]
fn empty_and_truncated_text() {
    let issue = only_error(&validate_definition_text("  \n", &Mode::Create)).clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(issue.message.contains("empty"), "{}", issue.message);
    let issue = only_error(&validate_definition_text("{\"id\": \"ho", &Mode::Patch)).clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(issue.message.contains("line 1"), "{}", issue.message);
}

#[test]
fn body_that_is_not_an_object_is_invalid_json() {
    for (text, found) in [
        ("[]", "an array"),
        ("\"household\"", "a string"),
        ("42", "a number (42)"),
        ("null", "null"),
    ] {
        let v = validate_definition_text(text, &Mode::Create);
        let issue = only_error(&v);
        assert_eq!(
            (issue.code.as_str(), issue.path.as_str()),
            ("invalid_json", "")
        );
        assert!(issue.message.contains("JSON object"), "{}", issue.message);
        assert!(issue.message.contains(found), "{}", issue.message);
    }
    let issue = only_error(&validate_definition(&json!([1]), &Mode::Patch)).clone();
    assert_eq!(issue.code, "invalid_json");
}

#[test]
fn errors_after_a_number_past_a_double_are_placed_as_without_it() {
    // `12345` takes the place of `1e400` at the same width: the same error, in the same
    // place, whichever reading found it.
    let deep = format!(
        r#"{{"n":1e400,"d":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    for text in [
        r#"{"big":1e400,"note":"\ud800","id":"household","source_user_attribute":"s","attributes":[]}"#,
        "{\"big\":1e400,\n \"\\udc00\":1}",
        "{\"a\":[1e400,\n  {\"b\":\"x\\ud800y\"}]}",
        deep.as_str(),
    ] {
        let big = only_error(&validate_definition_text(text, &Mode::Create)).clone();
        let typed = validate_definition_text(&text.replace("1e400", "12345"), &Mode::Create);
        assert_eq!(big.code, "invalid_json", "{text}");
        assert_eq!(big.message, only_error(&typed).message, "{text}");
        assert!(big.message.contains(" at line "), "{}", big.message);
    }
}

#[test]
fn a_byte_order_mark_or_other_white_space_is_named_as_such() {
    let body = r#"{"id":"household","source_user_attribute":"s","attributes":[]}"#;
    let issue = only_error(&validate_definition_text(
        &format!("\u{feff}{body}"),
        &Mode::Create,
    ))
    .clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(
        issue.message.contains("byte order mark"),
        "{}",
        issue.message
    );
    for text in ["\u{a0}", "\u{3000}"] {
        let issue = only_error(&validate_definition_text(text, &Mode::Create)).clone();
        assert!(!issue.message.contains("empty"), "{}", issue.message);
        assert!(
            issue.message.contains("line 1, column 1"),
            "{}",
            issue.message
        );
    }
    let issue = only_error(&validate_definition_text(" \r\n\t", &Mode::Create)).clone();
    assert!(issue.message.contains("empty"), "{}", issue.message);
}

#[test]
fn numbers_past_a_double_are_json_and_typed_as_numbers() {
    // `1e400` is valid JSON that serde cannot type: a wrong type or an unknown field, as
    // any other number would be, never `invalid_json`.
    let v = validate_definition_text(
        r#"{"id":1e400,"source_user_attribute":"$address","attributes":[{"id":"n","type":"sum"}]}"#,
        &Mode::Create,
    );
    assert_eq!(pairs(&v.errors), [("wrong_type", "/id")]);
    assert!(
        only_error(&v).message.contains("a number (1e400)"),
        "{:?}",
        v.errors
    );
    // Issues as for the same body with numbers serde can type.
    let text = r#"{"id":"household","source_user_attribute":"$address","attributes":[{"id":"n","type":"sum","w":[-1E999, 1E2]}],"note":1e400,"note":2}"#;
    let v = validate_definition_text(text, &Mode::Create);
    assert!(v.valid, "{:?}", v.errors);
    let typed = validate_definition_text(
        &text.replace("-1E999", "-1").replace("1e400", "1"),
        &Mode::Create,
    );
    assert_eq!(v, typed);
    assert_eq!(v.warnings.len(), 3, "{:?}", v.warnings);
    // Nested past what the typed read allows, it is refused as that read refuses it.
    let deep = format!(
        r#"{{"n":1e400,"d":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let issue = only_error(&validate_definition_text(&deep, &Mode::Create)).clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(
        issue.message.contains("nested deeper than 127 levels"),
        "{}",
        issue.message
    );
    // A syntax error after such a number is reported where it stands, not at the number.
    let issue = only_error(&validate_definition_text("{\"id\":1e400,}", &Mode::Create)).clone();
    assert_eq!(issue.code, "invalid_json");
    assert!(
        issue.message.contains("line 1, column 13"),
        "{}",
        issue.message
    );
}

// ---- Robustness ----

#[test]
fn deep_nesting_never_panics() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let v = validate_definition_text(&deep, &Mode::Create);
    assert_eq!(only_error(&v).code, "invalid_json");
    let deep_field = format!(
        r#"{{"id":"household","source_user_attribute":"s","attributes":[{{"id":"x","type":{}1{}}}]}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    let v = validate_definition_text(&deep_field, &Mode::Create);
    assert_eq!(pairs(&v.errors), [("wrong_type", "/attributes/0/type")]);

    let mut value = json!(1);
    for _ in 0..300 {
        value = json!([value]);
    }
    let v = create(body_with(
        json!({ "attributes": [{ "id": "x", "type": value }] }),
    ));
    assert_eq!(pairs(&v.errors), [("wrong_type", "/attributes/0/type")]);
}

#[test]
fn odd_numbers_and_strings_never_panic() {
    for text in [
        r#"{"id": 1e308, "attributes": [-0, 18446744073709551615, -9223372036854775808]}"#,
        r#"{"id": "\u0000\u001f", "source_user_attribute": "\ud83d\udc15"}"#,
        r#"{"": "", "/": [], "~": {}}"#,
        "{\"id\": 1e999}",
        "\u{feff}{}",
    ] {
        for mode in [
            Mode::Create,
            Mode::Patch,
            Mode::Update {
                group_id: "x".into(),
            },
        ] {
            let v = validate_definition_text(text, &mode);
            assert_eq!(v.valid, v.errors.is_empty());
            assert!(!v.valid);
        }
    }
}

// ---- GroupDefinition::from_value ----

#[test]
fn group_definition_from_valid_value() {
    let definition = GroupDefinition::from_value(&body_with(json!({}))).expect("valid");
    assert_eq!(
        definition,
        GroupDefinition {
            id: "household".into(),
            description: Some("users who share the same physical address".into()),
            source_user_attribute: "$address".into(),
            attributes: vec![GroupAttribute {
                id: "has_dog".into(),
                aggregation: Aggregation::BooleanOr,
            }],
        }
    );
}

#[test]
fn group_definition_from_invalid_value() {
    let errors =
        GroupDefinition::from_value(&json!({ "id": "ab", "attributes": [] })).expect_err("invalid");
    assert_eq!(
        pairs(&errors),
        [("too_short", "/id"), ("missing_field", "")]
    );
    // Warnings alone do not block.
    assert!(GroupDefinition::from_value(&body_with(json!({ "attributes": [] }))).is_ok());
    assert!(GroupDefinition::from_value(&json!("household")).is_err());
}

//! The token endpoint and the six group endpoints over real HTTP.

mod common;

use std::time::Duration;

use common::{credentials, env, household, token_body, two_clients, JSON};
use group_identity_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const GROUPS: &str = "/platform/workspaces/1000/groups";
const HOUSEHOLD: &str = "/platform/workspaces/1000/groups/household";

fn is_api_time(text: &str) -> bool {
    // 2023-11-13T21:50:17.732Z
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

#[tokio::test]
async fn token_endpoint_issues_bearer_tokens() {
    let env = env(Config::default()).await;
    let answer = env
        .token_answer(credentials("local-client", "local-secret"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["cache-control"], "no-store");
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 28800);
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32, "{token}");
    // Random: a second token differs, and both work.
    let other = env.token("local-client", "local-secret").await;
    assert_ne!(token, other);
    for t in [token, other.as_str()] {
        let answer = env.call(Method::GET, GROUPS, t, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json(), json!([]));
    }
}

#[tokio::test]
async fn token_endpoint_errors_are_oauth_shaped() {
    let env = env(Config::default()).await;
    let good = credentials("local-client", "local-secret");
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with("client_secret", json!("wrong-secret")),
            401,
            "access_denied",
        ),
        (with("client_id", json!("nobody")), 401, "access_denied"),
        (
            with("audience", json!("https://example.com")),
            400,
            "invalid_request",
        ),
        (
            with("grant_type", json!("password")),
            400,
            "unsupported_grant_type",
        ),
        (with("client_id", json!(42)), 400, "invalid_request"),
        (
            json!({ "grant_type": "client_credentials" }),
            400,
            "invalid_request",
        ),
        (json!([1, 2]), 400, "invalid_request"),
    ];
    for (body, status, error) in cases {
        let answer = env.token_answer(body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
        let json = answer.json();
        assert_eq!(json["error"], error, "{body}");
        let description = json["error_description"].as_str().unwrap();
        assert!(!description.is_empty());
        assert!(!description.contains("wrong-secret"), "{description}");
    }
    let answer = env
        .raw(
            Method::POST,
            "/oauth/token",
            &[JSON],
            Some(b"client_id=x".to_vec()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_request");
}

#[tokio::test]
async fn oversized_bodies_answer_in_each_endpoints_error_shape() {
    let env = env(Config::default()).await;
    let big = vec![b' '; 3 << 20];
    // The token endpoint: the token service's `{ error, error_description }`.
    let answer = env
        .raw(Method::POST, "/oauth/token", &[JSON], Some(big.clone()))
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["error"], "invalid_request", "{}", answer.text);
    // The emulator's own endpoints: the Platform API's `{ errors: [...] }`.
    let answer = env
        .raw(Method::POST, "/emulator/faults", &[JSON], Some(big))
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error().0, "PAYLOAD_TOO_LARGE", "{}", answer.text);
}

#[tokio::test]
async fn group_lifecycle() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;

    let mut body = household();
    // Read-only fields in a request are ignored.
    body["created_by"] = json!("someone@example.com");
    body["created_on"] = json!("2001-01-01T00:00:00.000Z");
    let created = env.call(Method::POST, GROUPS, &token, Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let group = created.json();
    assert_eq!(group["id"], "household");
    assert_eq!(
        group["description"],
        "users who share the same physical address"
    );
    assert_eq!(group["source_user_attribute"], "$address");
    assert_eq!(
        group["attributes"],
        json!([{ "id": "has_dog", "type": "boolean_or" }])
    );
    assert_eq!(group["created_by"], "local-client");
    assert_eq!(group["last_modified_by"], "local-client");
    let created_on = group["created_on"].as_str().unwrap().to_string();
    assert!(is_api_time(&created_on), "{created_on}");
    assert_ne!(created_on, "2001-01-01T00:00:00.000Z");
    assert_eq!(group["last_modified_on"], group["created_on"]);

    let list = env.call(Method::GET, GROUPS, &token, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json(), json!([group.clone()]));
    let got = env.call(Method::GET, HOUSEHOLD, &token, None).await;
    assert_eq!(got.json(), group);

    // One definition per workspace: a second POST, and a POST of the same id, are 422.
    let mut other = household();
    other["id"] = json!("family");
    let second = env.call(Method::POST, GROUPS, &token, Some(other)).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message) = second.error();
    assert_eq!(code, "VALIDATION_ERROR");
    assert!(
        message.contains("at most 1") && message.contains("household"),
        "{message}"
    );
    let again = env
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.error().1.contains("already exists"), "{}", again.text);
    assert_eq!(again.json()["errors"][0]["path"], "/id");

    tokio::time::sleep(Duration::from_millis(5)).await;
    // PUT replaces the definition and keeps created_*; the id may be omitted.
    let put = env
        .call(
            Method::PUT,
            HOUSEHOLD,
            &token,
            Some(json!({
                "source_user_attribute": "$zip",
                "attributes": [{ "id": "ltv", "type": "sum" }],
            })),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let updated = put.json();
    assert_eq!(updated["id"], "household");
    assert_eq!(updated["source_user_attribute"], "$zip");
    assert_eq!(
        updated["attributes"],
        json!([{ "id": "ltv", "type": "sum" }])
    );
    assert!(
        updated.get("description").is_none(),
        "PUT replaces: {updated}"
    );
    assert_eq!(updated["created_on"], group["created_on"]);
    assert_eq!(updated["created_by"], "local-client");
    let modified = updated["last_modified_on"].as_str().unwrap();
    assert!(is_api_time(modified));
    assert!(
        modified > created_on.as_str(),
        "{modified} after {created_on}"
    );

    // PATCH replaces only the attributes.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let patched = env
        .call(
            Method::PATCH,
            HOUSEHOLD,
            &token,
            Some(json!({ "attributes": [
                { "id": "has_dog", "type": "boolean_or" },
                { "id": "country", "type": "latest" },
            ] })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let patched = patched.json();
    assert_eq!(patched["source_user_attribute"], "$zip");
    assert_eq!(
        patched["attributes"][1],
        json!({ "id": "country", "type": "latest" })
    );
    assert_eq!(patched["created_on"], group["created_on"]);
    assert!(patched["last_modified_on"].as_str().unwrap() > modified);

    let deleted = env.call(Method::DELETE, HOUSEHOLD, &token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.text, "");
    let gone = env.call(Method::GET, HOUSEHOLD, &token, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error().0, "NOT_FOUND");
    assert_eq!(
        env.call(Method::DELETE, HOUSEHOLD, &token, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.json(),
        json!([])
    );
    // The workspace is free again.
    let recreated = env
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(recreated.status, StatusCode::OK);
}

#[tokio::test]
async fn trailing_slash_is_optional() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let slash = |p: &str| format!("{p}/");
    let created = env
        .call(Method::POST, &slash(GROUPS), &token, Some(household()))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(
        env.call(Method::GET, &slash(GROUPS), &token, None)
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        env.call(Method::GET, &slash(HOUSEHOLD), &token, None)
            .await
            .status,
        StatusCode::OK
    );
    let body = json!({ "source_user_attribute": "$address", "attributes": [] });
    assert_eq!(
        env.call(Method::PUT, &slash(HOUSEHOLD), &token, Some(body))
            .await
            .status,
        StatusCode::OK
    );
    let body = json!({ "attributes": [{ "id": "a", "type": "sum" }] });
    assert_eq!(
        env.call(Method::PATCH, &slash(HOUSEHOLD), &token, Some(body))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        env.call(Method::DELETE, &slash(HOUSEHOLD), &token, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let answer = env
        .raw(Method::POST, "/oauth/token/", &[JSON], Some(token_body()))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn unauthorized_without_a_valid_token() {
    let env = env(Config::default()).await;
    let cases: [&[(&str, &str)]; 4] = [
        &[],
        &[("authorization", "Basic bG9jYWw6c2VjcmV0")],
        &[("authorization", "Bearer not-a-token")],
        &[("authorization", "Bearer ")],
    ];
    for headers in cases {
        let answer = env.raw(Method::GET, GROUPS, headers, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(answer.error().0, "UNAUTHORIZED");
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
        assert!(!answer.text.contains("not-a-token"), "{}", answer.text);
    }
    // 401 comes before anything about the body or the group.
    let answer = env
        .raw(Method::POST, GROUPS, &[], Some(b"{".to_vec()))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // The job endpoints need a token too.
    for path in [
        "/emulator/workspaces/1000/profiles",
        "/emulator/workspaces/1000/run",
    ] {
        assert_eq!(
            env.raw(Method::POST, path, &[], None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn tokens_expire() {
    let env = env(Config {
        token_ttl: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let answer = env
        .token_answer(credentials("local-client", "local-secret"))
        .await;
    assert_eq!(answer.json()["expires_in"], 2);
    let token = answer.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = env.call(Method::GET, GROUPS, &token, None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.error().1.contains("expired"), "{}", expired.text);
    // A fresh token works again.
    let fresh = env.token("local-client", "local-secret").await;
    assert_eq!(
        env.call(Method::GET, GROUPS, &fresh, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expire_tokens_endpoint_expires_every_token() {
    let env = env(Config::default()).await;
    let a = env.token("local-client", "local-secret").await;
    let b = env.token("local-client", "local-secret").await;
    let answer = env
        .raw(Method::POST, "/emulator/expire-tokens", &[], None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["expired"], 2);
    for token in [&a, &b] {
        let answer = env.call(Method::GET, GROUPS, token, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.error().1.contains("expired"));
    }
    let fresh = env.token("local-client", "local-secret").await;
    assert_eq!(
        env.call(Method::GET, GROUPS, &fresh, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn clients_only_touch_their_own_workspaces() {
    let env = env(two_clients()).await;
    let a = env.token("client-a", "secret-a").await;
    let b = env.token("client-b", "secret-b").await;
    assert_eq!(
        env.call(Method::POST, GROUPS, &a, Some(household()))
            .await
            .status,
        StatusCode::OK
    );
    let a2000 = "/platform/workspaces/2000/groups";
    assert_eq!(
        env.call(Method::POST, a2000, &a, Some(household()))
            .await
            .status,
        StatusCode::OK
    );

    // b may not read, change or delete a's group, nor create in a's workspace.
    let attempts = [
        (Method::GET, GROUPS, None),
        (Method::POST, GROUPS, Some(household())),
        (Method::GET, HOUSEHOLD, None),
        (Method::PUT, HOUSEHOLD, Some(household())),
        (Method::PATCH, HOUSEHOLD, Some(json!({ "attributes": [] }))),
        (Method::DELETE, HOUSEHOLD, None),
    ];
    for (method, path, body) in attempts {
        let answer = env.call(method.clone(), path, &b, body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
        let (code, message) = answer.error();
        assert_eq!(code, "FORBIDDEN");
        assert!(
            message.contains("client-b") && message.contains("1000"),
            "{message}"
        );
    }
    // a may not use b's workspace.
    let b3000 = "/platform/workspaces/3000/groups";
    assert_eq!(
        env.call(Method::GET, b3000, &a, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        env.call(Method::GET, b3000, &b, None).await.status,
        StatusCode::OK
    );
    // a's group is untouched.
    let got = env.call(Method::GET, HOUSEHOLD, &a, None).await;
    assert_eq!(got.json()["attributes"], household()["attributes"]);
    // A workspace id that is not a number, or not written as the API writes one (Rust's
    // parse alone would take `+1000` and `01000` for workspace 1000), is a bad request.
    for id in ["abc", "+1000", "01000", "1000.0", "-1000", "%201000"] {
        let answer = env
            .call(
                Method::GET,
                &format!("/platform/workspaces/{id}/groups"),
                &a,
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(answer.error().0, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn validation_issues_are_422_with_paths() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;

    let body = json!({
        "id": "ab",
        "source_user_attribute": "$address",
        "attributes": [
            { "id": "has_dog", "type": "boolean_or" },
            { "id": "ltv", "type": "median" },
            { "id": "has_dog", "type": "sum" },
        ],
        "atributes": [],
    });
    let answer = env.call(Method::POST, GROUPS, &token, Some(body)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    let json = answer.json();
    let errors = json["errors"].as_array().unwrap();
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            assert_eq!(e["code"], "VALIDATION_ERROR");
            assert!(!e["message"].as_str().unwrap().is_empty());
            (e["path"].as_str().unwrap(), e["reason"].as_str().unwrap())
        })
        .collect();
    for expected in [
        ("/id", "too_short"),
        ("/attributes/1/type", "unknown_aggregation"),
        ("/attributes/2/id", "duplicate_attribute"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    assert_eq!(errors.len(), 3, "{found:?}");
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["code"] == "unknown_field" && w["path"] == "/atributes"),
        "{warnings:?}"
    );
    // Nothing was stored.
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.json(),
        json!([])
    );

    // Warnings alone never block.
    let mut body = household();
    body["atributes"] = json!([]);
    assert_eq!(
        env.call(Method::POST, GROUPS, &token, Some(body))
            .await
            .status,
        StatusCode::OK
    );

    // Update: an id that differs from the path.
    let answer = env
        .call(
            Method::PUT,
            HOUSEHOLD,
            &token,
            Some(json!({ "id": "other", "source_user_attribute": "$a", "attributes": [] })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["errors"][0]["path"], "/id");
    assert_eq!(answer.json()["errors"][0]["reason"], "id_mismatch");
    // Patch: only attributes.
    let answer = env
        .call(
            Method::PATCH,
            HOUSEHOLD,
            &token,
            Some(json!({ "description": "x", "attributes": [] })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["errors"][0]["path"], "/description");
    assert_eq!(answer.json()["errors"][0]["reason"], "not_allowed_in_patch");
    // Missing required fields.
    let answer = env
        .call(Method::PUT, HOUSEHOLD, &token, Some(json!({})))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let json = answer.json();
    let reasons: Vec<&Value> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["reason"])
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().all(|r| *r == "missing_field"), "{reasons:?}");
    // A JSON body that is not an object is a validation error, not a bad request.
    let answer = env
        .call(
            Method::POST,
            "/platform/workspaces/1000/groups",
            &token,
            Some(json!([1])),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json()["errors"][0]["reason"], "invalid_json");
    // The stored group is unchanged by all of the above.
    assert_eq!(
        env.call(Method::GET, HOUSEHOLD, &token, None).await.json()["source_user_attribute"],
        "$address"
    );
}

#[tokio::test]
async fn bodies_that_are_not_json_are_400() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let auth = format!("Bearer {token}");
    let headers = [("authorization", auth.as_str()), JSON];
    for body in [
        &b"{\"id\": \"household\","[..],
        b"",
        b"not json",
        b"\xff\xfe",
    ] {
        let answer = env
            .raw(Method::POST, GROUPS, &headers, Some(body.to_vec()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            answer.text
        );
        let (code, message) = answer.error();
        assert_eq!(code, "BAD_REQUEST");
        assert!(message.contains("not"), "{message}");
    }
    let answer = env
        .raw(
            Method::POST,
            GROUPS,
            &headers,
            Some(b"{\n  \"id\": \"household\",\n  oops\n}".to_vec()),
        )
        .await;
    assert!(answer.error().1.contains("line 3"), "{}", answer.text);
    // JSON the core cannot read (nesting past its limit, a lone surrogate) is 400 too,
    // with the core's place and reason: never a 422 that says "not valid JSON".
    let deep = format!(
        "{{\"id\":\"household\",\"x\":{}{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    for (body, reason) in [
        (deep, "nested deeper than 127 levels"),
        (
            r#"{"id":"household","x":"\ud800"}"#.to_string(),
            "surrogate",
        ),
    ] {
        let answer = env
            .raw(Method::POST, GROUPS, &headers, Some(body.into_bytes()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        let (code, message) = answer.error();
        assert_eq!(code, "BAD_REQUEST");
        assert!(
            message.contains(reason) && message.contains("line 1"),
            "{message}"
        );
    }
    // A number beyond a double is JSON: a wrong type where a string belongs (422), an
    // unknown field otherwise, and such a body is taken.
    let answer = env
        .raw(
            Method::POST,
            GROUPS,
            &headers,
            Some(br#"{"id":1e400,"source_user_attribute":"$address","attributes":[]}"#.to_vec()),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(answer.text.contains("wrong_type"), "{}", answer.text);
    let body = household()
        .to_string()
        .replacen('{', r#"{"note":1e400,"#, 1);
    let answer = env
        .raw(Method::POST, GROUPS, &headers, Some(body.into_bytes()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    // The same for PUT and PATCH (on an existing group).
    for method in [Method::PUT, Method::PATCH] {
        let answer = env
            .raw(method, HOUSEHOLD, &headers, Some(b"[".to_vec()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn unknown_groups_and_routes_are_404() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    for method in [Method::GET, Method::DELETE] {
        let answer = env
            .call(
                method,
                "/platform/workspaces/1000/groups/nope",
                &token,
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        let (code, message) = answer.error();
        assert_eq!(code, "NOT_FOUND");
        assert!(message.contains("nope"), "{message}");
    }
    let body = json!({ "source_user_attribute": "$a", "attributes": [] });
    let answer = env
        .call(
            Method::PUT,
            "/platform/workspaces/1000/groups/nope",
            &token,
            Some(body),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = env
        .call(
            Method::PATCH,
            "/platform/workspaces/1000/groups/nope",
            &token,
            Some(json!({ "attributes": [] })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // A group of another id than the one stored.
    env.call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(
        env.call(
            Method::GET,
            "/platform/workspaces/1000/groups/Household",
            &token,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let answer = env.raw(Method::GET, "/platform/nothing", &[], None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error().0, "NOT_FOUND");
    let answer = env.call(Method::DELETE, GROUPS, &token, None).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.error().0, "METHOD_NOT_ALLOWED");
    // Without a token the token is what is wrong, as for any call there.
    let answer = env.raw(Method::POST, HOUSEHOLD, &[], None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // The token endpoint answers in the token service's shape, this too.
    let answer = env.raw(Method::GET, "/oauth/token", &[], None).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.json()["error"], "invalid_request");
    // Two tokens in one request: which one is meant is not guessed.
    let auth = format!("Bearer {token}");
    let answer = env
        .raw(
            Method::GET,
            GROUPS,
            &[
                ("authorization", auth.as_str()),
                ("authorization", auth.as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.error().1.contains("one Authorization"),
        "{}",
        answer.text
    );
}

/// A page served from this machine, as the playground is.
const LOCAL_PAGE: &str = "http://127.0.0.1:8000";

#[tokio::test]
async fn cors_preflight_and_headers() {
    let env = env(Config::default()).await;
    for (path, method) in [
        (HOUSEHOLD, "PATCH"),
        ("/oauth/token", "POST"),
        (GROUPS, "DELETE"),
    ] {
        let answer = env
            .raw(
                Method::OPTIONS,
                path,
                &[
                    ("origin", LOCAL_PAGE),
                    ("access-control-request-method", method),
                    (
                        "access-control-request-headers",
                        "authorization,content-type",
                    ),
                ],
                None,
            )
            .await;
        assert!(answer.status.is_success(), "{path}: {}", answer.status);
        let h = &answer.headers;
        assert_eq!(h["access-control-allow-origin"], LOCAL_PAGE);
        assert!(h["vary"].to_str().unwrap().contains("origin"));
        let methods = h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .to_ascii_uppercase();
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
    }
    // Simple requests, errors included, carry the CORS headers too.
    let answer = env
        .raw(Method::GET, GROUPS, &[("origin", LOCAL_PAGE)], None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers["access-control-allow-origin"], LOCAL_PAGE);
    let exposed = answer.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

/// Loopback keeps other machines out, not other pages in the developer's browser: a
/// form post from any site reaches 127.0.0.1 without a preflight. Such calls are
/// refused before they act, and a host name that is not this machine's (DNS
/// rebinding) too.
#[tokio::test]
async fn pages_of_other_sites_cannot_use_the_emulator() {
    let env = env(Config::default()).await;
    let site = "https://evil.example";
    let credentials = credentials("local-client", "local-secret").to_string();
    let token = env
        .raw(
            Method::POST,
            "/oauth/token",
            &[("origin", site), ("content-type", "text/plain")],
            Some(credentials.clone().into_bytes()),
        )
        .await;
    assert_eq!(token.status, StatusCode::FORBIDDEN, "{}", token.text);
    assert_eq!(token.json()["error"], "access_denied");
    assert!(token.headers.get("access-control-allow-origin").is_none());
    let fault = env
        .raw(
            Method::POST,
            "/emulator/faults",
            &[("origin", site), ("content-type", "text/plain")],
            Some(br#"{"status":503,"count":4000000000}"#.to_vec()),
        )
        .await;
    assert_eq!(fault.status, StatusCode::FORBIDDEN);
    assert!(fault.error().1.contains("--allow-origin"), "{}", fault.text);
    let expire = env
        .raw(
            Method::POST,
            "/emulator/expire-tokens",
            &[("origin", "null")],
            None,
        )
        .await;
    assert_eq!(expire.status, StatusCode::FORBIDDEN);
    // A preflight from such a page gets no permission either.
    let preflight = env
        .raw(
            Method::OPTIONS,
            GROUPS,
            &[
                ("origin", site),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        )
        .await;
    assert!(preflight
        .headers
        .get("access-control-allow-origin")
        .is_none());
    // DNS rebinding: the page's own name points at 127.0.0.1, so it is sent as the host.
    let rebound = env
        .raw(
            Method::GET,
            "/emulator/faults",
            &[("host", "evil.example:8080")],
            None,
        )
        .await;
    assert_eq!(rebound.status, StatusCode::FORBIDDEN);
    assert!(
        rebound.error().1.contains("DNS rebinding"),
        "{}",
        rebound.text
    );
    // The same through a proxy (trunk's, under `make play`), which names the emulator as
    // the host and the page's host in X-Forwarded-Host.
    let proxied = env
        .raw(
            Method::GET,
            "/emulator/faults",
            &[("x-forwarded-host", "evil.example:8000")],
            None,
        )
        .await;
    assert_eq!(proxied.status, StatusCode::FORBIDDEN);
    // Nothing above acted: no fault is pending, and the token endpoint still serves.
    let pending = env.raw(Method::GET, "/emulator/faults", &[], None).await;
    assert_eq!(pending.json()["pending"], Value::Null);
    for host in ["localhost:9", "127.0.0.1:9", "[::1]:9", "192.168.1.20:9"] {
        let answer = env
            .raw(Method::GET, "/emulator/health", &[("host", host)], None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn listed_origins_may_call() {
    let mut config = Config::default();
    config
        .allowed_origins
        .add("https://docs.example.com")
        .unwrap();
    config.allowed_origins.add("http://devbox:3000").unwrap();
    let env = env(config).await;
    let answer = env
        .raw(
            Method::GET,
            GROUPS,
            &[("origin", "https://docs.example.com")],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        "https://docs.example.com"
    );
    let other = env
        .raw(
            Method::GET,
            GROUPS,
            &[("origin", "https://other.example.com")],
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let named = env
        .raw(
            Method::GET,
            "/emulator/health",
            &[("host", "devbox:8080")],
            None,
        )
        .await;
    assert_eq!(named.status, StatusCode::OK);
}

/// The live API reads a body as JSON only when it is sent as JSON.
#[tokio::test]
async fn bodies_must_be_sent_as_json() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let auth = format!("Bearer {token}");
    let body = json!({
        "id": "household",
        "source_user_attribute": "$address",
        "attributes": [],
    })
    .to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(content_type.map(|t| ("content-type", t)));
        let answer = env
            .raw(
                Method::POST,
                GROUPS,
                &headers,
                Some(body.clone().into_bytes()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (code, message) = answer.error();
        assert_eq!(code, "UNSUPPORTED_MEDIA_TYPE");
        assert!(message.contains("application/json"), "{message}");
        let mut headers = Vec::new();
        headers.extend(content_type.map(|t| ("content-type", t)));
        let token = env
            .raw(Method::POST, "/oauth/token", &headers, Some(token_body()))
            .await;
        assert_eq!(token.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(token.json()["error"], "invalid_request");
    }
    // Parameters and letter case do not matter.
    let answer = env
        .raw(
            Method::POST,
            GROUPS,
            &[
                ("authorization", auth.as_str()),
                ("content-type", "Application/JSON; charset=utf-8"),
            ],
            Some(body.into_bytes()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

//! The fault switch: per-request header and pending faults from the admin endpoint.

mod common;

use std::time::{Duration, Instant};

use common::{env, token_body, JSON};
use group_identity_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

const GROUPS: &str = "/platform/workspaces/1000/groups";

#[tokio::test]
async fn header_forces_statuses() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let auth = format!("Bearer {token}");
    let cases = [
        ("429", 429, "TOO_MANY_REQUESTS", Some("1")),
        ("429;retry-after=3", 429, "TOO_MANY_REQUESTS", Some("3")),
        ("503", 503, "SERVICE_UNAVAILABLE", Some("1")),
        ("503; retry-after=0", 503, "SERVICE_UNAVAILABLE", Some("0")),
        ("500", 500, "INTERNAL_SERVER_ERROR", None),
    ];
    for (fault, status, code, retry_after) in cases {
        let answer = env
            .raw(
                Method::GET,
                GROUPS,
                &[("authorization", &auth), ("x-emulator-fault", fault)],
                None,
            )
            .await;
        assert_eq!(answer.status.as_u16(), status, "{fault}");
        assert_eq!(answer.error().0, code, "{fault}");
        assert_eq!(
            answer
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after,
            "{fault}"
        );
    }
    // Faults come before the token check.
    let answer = env
        .raw(Method::GET, GROUPS, &[("x-emulator-fault", "503")], None)
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    // The header fault is for that request only.
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.status,
        StatusCode::OK
    );
    // A malformed fault is named.
    let answer = env
        .raw(
            Method::GET,
            GROUPS,
            &[("authorization", &auth), ("x-emulator-fault", "teapot")],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.error().1.contains("X-Emulator-Fault"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn header_fault_on_the_token_endpoint_is_oauth_shaped() {
    let env = env(Config::default()).await;
    let answer = env
        .raw(
            Method::POST,
            "/oauth/token",
            &[JSON, ("x-emulator-fault", "429;retry-after=2")],
            Some(token_body()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers["retry-after"], "2");
    assert_eq!(answer.json()["error"], "too_many_requests");
    let answer = env
        .raw(
            Method::POST,
            "/oauth/token",
            &[("x-emulator-fault", "503")],
            Some(token_body()),
        )
        .await;
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
    // A malformed fault is named in the token service's shape too.
    let answer = env
        .raw(
            Method::POST,
            "/oauth/token",
            &[("x-emulator-fault", "abc")],
            Some(token_body()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_request");
    let description = answer.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(description.contains("X-Emulator-Fault"), "{}", answer.text);
}

#[tokio::test]
async fn a_forced_401_says_how_to_authenticate() {
    let env = env(Config::default()).await;
    let answer = env
        .raw(Method::GET, GROUPS, &[("x-emulator-fault", "401")], None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn header_slow_delays_then_serves() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let auth = format!("Bearer {token}");
    let started = Instant::now();
    let answer = env
        .raw(
            Method::GET,
            GROUPS,
            &[("authorization", &auth), ("x-emulator-fault", "slow=300")],
            None,
        )
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!([]));
    // Slow and failing.
    let started = Instant::now();
    let answer = env
        .raw(
            Method::GET,
            GROUPS,
            &[
                ("authorization", &auth),
                ("x-emulator-fault", "slow=200,500"),
            ],
            None,
        )
        .await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn pending_faults_hit_the_next_requests() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let set = env
        .raw(
            Method::POST,
            "/emulator/faults",
            &[JSON],
            Some(
                json!({ "status": 503, "count": 2, "retryAfter": 4 })
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json()["pending"]["remaining"], 2);
    // Admin endpoints are not API requests: they neither fail nor count.
    let shown = env.raw(Method::GET, "/emulator/faults", &[], None).await;
    assert_eq!(shown.json()["pending"]["status"], 503);

    let first = env.call(Method::GET, GROUPS, &token, None).await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.headers["retry-after"], "4");
    // The token endpoint counts as an API request.
    let second = env
        .raw(Method::POST, "/oauth/token", &[], Some(token_body()))
        .await;
    assert_eq!(second.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.json()["error"], "temporarily_unavailable");
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        env.raw(Method::GET, "/emulator/faults", &[], None)
            .await
            .json()["pending"],
        json!(null)
    );
}

#[tokio::test]
async fn pending_delay_and_clear() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let set = env
        .raw(
            Method::POST,
            "/emulator/faults",
            &[],
            Some(
                json!({ "delayMs": 300, "count": 1 })
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let started = Instant::now();
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.status,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Count 1: used up by that request.
    let shown = env.raw(Method::GET, "/emulator/faults", &[], None).await;
    assert_eq!(shown.json()["pending"], json!(null));

    // A pending 429 that is cleared before any request never fires.
    let body = json!({ "status": 429, "count": 5 })
        .to_string()
        .into_bytes();
    env.raw(Method::POST, "/emulator/faults", &[], Some(body))
        .await;
    let cleared = env.raw(Method::DELETE, "/emulator/faults", &[], None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_fault_requests_are_named() {
    let env = env(Config::default()).await;
    for body in [
        json!({}),
        json!({ "status": 200 }),
        json!({ "status": 503, "count": 0 }),
        json!({ "stauts": 503 }),
        json!({ "delayMs": 99_999_999 }),
    ] {
        let answer = env
            .raw(
                Method::POST,
                "/emulator/faults",
                &[],
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.error().0, "BAD_REQUEST");
    }
    assert_eq!(
        env.raw(Method::GET, "/emulator/faults", &[], None)
            .await
            .json()["pending"],
        json!(null)
    );
}

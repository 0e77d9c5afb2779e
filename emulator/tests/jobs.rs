//! The group job on demand: load profiles, run, read a profile back.

mod common;

use common::{env, household, temp_dir, two_clients, Env};
use group_identity_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PROFILES: &str = "/emulator/workspaces/1000/profiles";
const RUN: &str = "/emulator/workspaces/1000/run";

/// The reference's example: John and Jane share an address, and only John has a dog.
const JOHN_AND_JANE: &str = r#"[
  { "mpid": "1001", "$address": "123 Main St", "name": "John Doe", "has_dog": true },
  { "mpid": "1002", "$address": "123 Main St", "name": "Jane Doe" },
  { "mpid": -9223372036854775808, "$address": "9 Elm Street", "has_dog": false }
]"#;

async fn load(env: &Env, token: &str, query: &str, body: &str) -> Value {
    let auth = format!("Bearer {token}");
    let answer = env
        .raw(
            Method::POST,
            &format!("{PROFILES}{query}"),
            &[("authorization", &auth)],
            Some(body.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

async fn profile(env: &Env, token: &str, mpid: &str) -> Value {
    let answer = env
        .call(Method::GET, &format!("{PROFILES}/{mpid}"), token, None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

#[tokio::test]
async fn household_members_inherit_has_dog() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    let created = env
        .call(
            Method::POST,
            "/platform/workspaces/1000/groups",
            &token,
            Some(household()),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);

    let loaded = load(&env, &token, "", JOHN_AND_JANE).await;
    assert_eq!(loaded["loaded"], 3);
    assert_eq!(loaded["profiles"], 3);

    // Before the job runs, nothing is inherited.
    let jane = profile(&env, &token, "1002").await;
    assert!(jane["user_attributes"].get("household:has_dog").is_none());

    let run = env.call(Method::POST, RUN, &token, None).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let run = run.json();
    assert_eq!(run["groupId"], "household");
    assert_eq!(run["stats"]["profiles"], 3);
    assert_eq!(run["stats"]["groups"], 1);
    assert_eq!(run["stats"]["groupedProfiles"], 2);
    assert_eq!(run["stats"]["singletons"], 1);
    assert!(run["ranOn"].is_string());

    for mpid in ["1001", "1002"] {
        let p = profile(&env, &token, mpid).await;
        assert_eq!(p["mpid"], mpid);
        assert_eq!(p["user_attributes"]["household:has_dog"], true, "{p}");
        assert_eq!(
            p["inherited_attributes"],
            json!({ "household:has_dog": true })
        );
        assert_eq!(p["user_attributes"]["$address"], "123 Main St");
    }
    let jane = profile(&env, &token, "1002").await;
    assert_eq!(jane["own_attributes"]["name"], "Jane Doe");
    assert!(jane["own_attributes"].get("has_dog").is_none());
    // A signed 64-bit mpid survives exactly; a singleton inherits nothing.
    let alone = profile(&env, &token, "-9223372036854775808").await;
    assert_eq!(alone["inherited_attributes"], json!({}));
    assert_eq!(alone["user_attributes"]["has_dog"], false);

    let summary = env.call(Method::GET, PROFILES, &token, None).await.json();
    assert_eq!(summary["profiles"], 3);
    assert_eq!(summary["lastRun"]["stats"]["groups"], 1);

    // The job uses the current definition: after a PATCH, a rerun gives the new attributes.
    let patched = env
        .call(
            Method::PATCH,
            "/platform/workspaces/1000/groups/household",
            &token,
            Some(json!({ "attributes": [{ "id": "name", "type": "latest" }] })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(
        env.call(Method::POST, RUN, &token, None).await.status,
        StatusCode::OK
    );
    let john = profile(&env, &token, "1001").await;
    assert_eq!(
        john["inherited_attributes"],
        json!({ "household:name": "Jane Doe" })
    );
}

#[tokio::test]
async fn formats_modes_and_diagnostics() {
    let env = env(Config::default()).await;
    let token = env.token("local-client", "local-secret").await;
    env.call(
        Method::POST,
        "/platform/workspaces/1000/groups",
        &token,
        Some(household()),
    )
    .await;

    let csv = "mpid,$address,has_dog\n1,123 Main St,true\n2,123 Main St,\n";
    let loaded = load(&env, &token, "?format=csv", csv).await;
    assert_eq!(loaded["loaded"], 2);

    // NDJSON appended: a new profile, a replaced one, and a broken line reported.
    let ndjson = "{\"mpid\": \"3\", \"$address\": \"123 Main St\"}\nnot json\n{\"mpid\": \"2\", \"$address\": \"123 Main St\", \"has_dog\": \"false\"}\n";
    let loaded = load(&env, &token, "?mode=append", ndjson).await;
    assert_eq!(loaded["loaded"], 2);
    assert_eq!(loaded["replaced"], 1);
    assert_eq!(loaded["profiles"], 3);
    let diagnostics = loaded["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["line"], 2);

    let run = env.call(Method::POST, RUN, &token, None).await.json();
    assert_eq!(run["stats"]["groupedProfiles"], 3);
    for mpid in ["1", "2", "3"] {
        assert_eq!(
            profile(&env, &token, mpid).await["user_attributes"]["household:has_dog"],
            true
        );
    }

    // Replace (the default) drops what was there, inherited values included.
    let loaded = load(
        &env,
        &token,
        "?format=json",
        "[{\"mpid\": \"9\", \"$address\": \"x\"}]",
    )
    .await;
    assert_eq!(loaded["profiles"], 1);
    let missing = env
        .call(Method::GET, &format!("{PROFILES}/1"), &token, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error().0, "NOT_FOUND");

    let auth = format!("Bearer {token}");
    for query in ["?format=xml", "?mode=merge", "?colour=red"] {
        let answer = env
            .raw(
                Method::POST,
                &format!("{PROFILES}{query}"),
                &[("authorization", &auth)],
                Some(b"[]".to_vec()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        assert_eq!(answer.error().0, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn job_endpoints_check_definition_token_and_workspace() {
    let env = env(two_clients()).await;
    let a = env.token("client-a", "secret-a").await;
    let b = env.token("client-b", "secret-b").await;
    let answer = env.call(Method::POST, RUN, &a, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(
        answer.error().1.contains("no group definition"),
        "{}",
        answer.text
    );
    for (method, path) in [
        (Method::POST, PROFILES),
        (Method::GET, PROFILES),
        (Method::POST, RUN),
        (Method::GET, "/emulator/workspaces/1000/profiles/1"),
    ] {
        let answer = env.call(method.clone(), path, &b, None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
}

#[tokio::test]
async fn profiles_and_results_survive_a_restart() {
    let dir = temp_dir("jobstate");
    let config = Config {
        state_file: Some(dir.join("state.json")),
        ..Config::default()
    };
    let first = env(config.clone()).await;
    let token = first.token("local-client", "local-secret").await;
    first
        .call(
            Method::POST,
            "/platform/workspaces/1000/groups",
            &token,
            Some(household()),
        )
        .await;
    load(&first, &token, "", JOHN_AND_JANE).await;
    assert_eq!(
        first.call(Method::POST, RUN, &token, None).await.status,
        StatusCode::OK
    );
    first.emulator.shutdown().await.unwrap();

    let second = env(config).await;
    let token = second.token("local-client", "local-secret").await;
    let jane = profile(&second, &token, "1002").await;
    assert_eq!(jane["user_attributes"]["household:has_dog"], true);
    assert_eq!(
        second
            .call(Method::GET, PROFILES, &token, None)
            .await
            .json()["lastRun"]["groupId"],
        "household"
    );
    second.emulator.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

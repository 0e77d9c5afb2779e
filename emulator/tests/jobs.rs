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

    // A profile loaded again keeps what it inherited until the next run, and its place:
    // among values with no time, the later place in the store wins.
    let again = "{\"mpid\": \"1\", \"$address\": \"123 Main St\", \"has_dog\": false}\n";
    let loaded = load(&env, &token, "?mode=append", again).await;
    assert_eq!(loaded["replaced"], 1);
    let john = profile(&env, &token, "1").await;
    assert_eq!(john["inherited_attributes"]["household:has_dog"], true);
    assert_eq!(john["own_attributes"]["has_dog"], false);

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

/// The inherited `household:country` of a profile after the last run.
async fn country(env: &Env, token: &str, mpid: &str) -> Value {
    profile(env, token, mpid).await["inherited_attributes"]["household:country"].clone()
}

#[tokio::test]
async fn latest_takes_the_newest_time_not_the_load_order() {
    let dir = temp_dir("latest");
    let config = Config {
        state_file: Some(dir.join("state.json")),
        ..Config::default()
    };
    let first = env(config.clone()).await;
    let token = first.token("local-client", "local-secret").await;
    let definition = json!({
        "id": "household",
        "source_user_attribute": "$address",
        "attributes": [{ "id": "country", "type": "latest" }]
    });
    let created = first
        .call(
            Method::POST,
            "/platform/workspaces/1000/groups",
            &token,
            Some(definition),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);

    // In each household the profile loaded first has the newest time.
    let ndjson = [
        // By user_attribute_timestamps, which beats the later profile's newer updated_at.
        json!({"mpid": "1", "updated_at": "2020-01-01T00:00:00Z",
               "user_attribute_timestamps": {"country": "2024-06-01T00:00:00Z"},
               "user_attributes": {"$address": "123 Main St", "country": "US"}}),
        json!({"mpid": "2", "updated_at": "2025-01-01T00:00:00Z",
               "user_attribute_timestamps": {"country": 1704067200000_i64},
               "user_attributes": {"$address": "123 Main St", "country": "DE"}}),
        // By updated_at (RFC 3339 against epoch milliseconds), flat shape.
        json!({"mpid": "3", "$address": "9 Elm Street", "country": "FR",
               "updated_at": "2024-05-01T00:00:00Z"}),
        json!({"mpid": "4", "$address": "9 Elm Street", "country": "ES",
               "updated_at": 1704067200000_i64}),
    ]
    .iter()
    .map(|r| format!("{r}\n"))
    .collect::<String>();
    load(&first, &token, "?format=ndjson", &ndjson).await;
    // CSV time columns too, appended after the others.
    let csv = "mpid,$address,country,updated_at\n\
               5,7 Oak Lane,IT,2024-05-01T00:00:00Z\n\
               6,7 Oak Lane,PT,2024-01-01T00:00:00Z\n";
    load(&first, &token, "?format=csv&mode=append", csv).await;

    let expected = [
        ("1", "US"),
        ("2", "US"),
        ("3", "FR"),
        ("4", "FR"),
        ("5", "IT"),
        ("6", "IT"),
    ];
    let run = first.call(Method::POST, RUN, &token, None).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    assert_eq!(run.json()["stats"]["groups"], 3);
    for (mpid, want) in expected {
        assert_eq!(country(&first, &token, mpid).await, want, "mpid {mpid}");
    }
    // The times are not attributes of the profile.
    let one = profile(&first, &token, "1").await;
    assert_eq!(
        one["own_attributes"],
        json!({"$address": "123 Main St", "country": "US"})
    );
    first.emulator.shutdown().await.unwrap();

    // The times are stored with the profiles: a run after a restart agrees.
    let second = env(config).await;
    let token = second.token("local-client", "local-secret").await;
    let run = second.call(Method::POST, RUN, &token, None).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    for (mpid, want) in expected {
        assert_eq!(country(&second, &token, mpid).await, want, "mpid {mpid}");
    }
    second.emulator.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_state_file_without_profile_times_still_loads() {
    let dir = temp_dir("oldstate");
    let path = dir.join("state.json");
    // As written before profile times were kept: no time fields on the profiles.
    let old = json!({
        "version": 1,
        "workspaces": {"1000": {
            "group": {
                "id": "household",
                "source_user_attribute": "$address",
                "attributes": [{ "id": "country", "type": "latest" }],
                "created_on": "2024-01-01T00:00:00.000Z",
                "created_by": "local-client",
                "last_modified_on": "2024-01-01T00:00:00.000Z",
                "last_modified_by": "local-client"
            },
            "profiles": {"profiles": [
                {"mpid": "1", "attributes": {"$address": "123 Main St", "country": "US"}},
                {"mpid": "2", "attributes": {"$address": "123 Main St", "country": "DE"}}
            ]}
        }}
    });
    std::fs::write(&path, old.to_string()).unwrap();
    let env = env(Config {
        state_file: Some(path),
        ..Config::default()
    })
    .await;
    let token = env.token("local-client", "local-secret").await;
    let run = env.call(Method::POST, RUN, &token, None).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    // Without times, the later record wins (SPEC section 3).
    assert_eq!(country(&env, &token, "1").await, "DE");
    env.emulator.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

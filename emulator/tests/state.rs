//! `--state FILE`: what survives a restart, and how the file is written.

mod common;

use common::{env, household, temp_dir};
use group_identity_emulator::{start, Config, Error};
use reqwest::{Method, StatusCode};
use serde_json::json;

const GROUPS: &str = "/platform/workspaces/1000/groups";

fn with_state(path: std::path::PathBuf) -> Config {
    Config {
        state_file: Some(path),
        ..Config::default()
    }
}

fn dir_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn definitions_survive_a_restart() {
    let dir = temp_dir("restart");
    let path = dir.join("state.json");

    let first = env(with_state(path.clone())).await;
    // The file exists from the start, so a bad location fails at once.
    assert!(path.exists());
    let token = first.token("local-client", "local-secret").await;
    let created = first
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let patched = first
        .call(
            Method::PATCH,
            "/platform/workspaces/1000/groups/household",
            &token,
            Some(json!({ "attributes": [{ "id": "ltv", "type": "average" }] })),
        )
        .await
        .json();
    first.emulator.shutdown().await.unwrap();

    // Every write replaced the file whole: no temporary file is left beside it.
    assert_eq!(dir_names(&dir), vec!["state.json".to_string()]);
    let text = std::fs::read_to_string(&path).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        stored["workspaces"]["1000"]["group"]["attributes"][0]["id"],
        "ltv"
    );
    // Neither tokens nor secrets are ever written.
    assert!(!text.contains(&token));
    assert!(!text.contains("local-secret"));

    let second = env(with_state(path.clone())).await;
    // Old tokens do not survive a restart; definitions do.
    let stale = second.call(Method::GET, GROUPS, &token, None).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let token = second.token("local-client", "local-secret").await;
    let list = second.call(Method::GET, GROUPS, &token, None).await;
    assert_eq!(list.json(), json!([patched]));
    // The one-per-workspace rule holds across the restart.
    let again = second
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = second
        .call(
            Method::DELETE,
            "/platform/workspaces/1000/groups/household",
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    second.emulator.shutdown().await.unwrap();

    let third = env(with_state(path.clone())).await;
    let token = third.token("local-client", "local-secret").await;
    assert_eq!(
        third.call(Method::GET, GROUPS, &token, None).await.json(),
        json!([])
    );
    third.emulator.shutdown().await.unwrap();
    assert_eq!(dir_names(&dir), vec!["state.json".to_string()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_broken_state_file_stops_the_start_and_is_kept() {
    let dir = temp_dir("broken");
    let path = dir.join("state.json");
    std::fs::write(&path, "{\"version\": 1, \"workspaces\": {\"1000\": ").unwrap();
    match start(with_state(path.clone())).await {
        Err(Error::State { message, .. }) => assert!(message.contains("line 1"), "{message}"),
        Err(other) => panic!("expected a state error, got {other}"),
        Ok(_) => panic!("a broken state file must not be accepted"),
    }
    // The user's file is not overwritten.
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"version\": 1, \"workspaces\": {\"1000\": "
    );
    // A state file in a directory that does not exist fails at start, not at the first write.
    assert!(start(with_state(dir.join("missing/state.json")))
        .await
        .is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_failed_save_changes_nothing() {
    let dir = temp_dir("failsave");
    let path = dir.join("state.json");
    let env = env(with_state(path.clone())).await;
    let token = env.token("local-client", "local-secret").await;
    // Make the next rename fail: the state file's place is taken by a directory.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let answer = env
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.error().0, "INTERNAL_SERVER_ERROR");
    assert!(
        !answer.text.contains(dir.to_str().unwrap()),
        "{}",
        answer.text
    );
    // Memory agrees with the file: the group was not created.
    assert_eq!(
        env.call(Method::GET, GROUPS, &token, None).await.json(),
        json!([])
    );
    assert_eq!(dir_names(&dir), vec!["state.json".to_string()]);
    std::fs::remove_dir(&path).unwrap();
    let answer = env
        .call(Method::POST, GROUPS, &token, Some(household()))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    env.emulator.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

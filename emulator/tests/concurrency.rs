//! 200 concurrent mixed requests on several workspaces: no lost or torn update.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{env, temp_dir};
use group_identity_emulator::{ClientConfig, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const WORKSPACES: [u64; 4] = [11, 22, 33, 44];
const CREATES_PER_WORKSPACE: usize = 10;
const MIXED: usize = 160;

/// PUTs write description `put-N` and source `src-N` together; a torn update would show
/// one without the other.
fn check_consistent(group: &Value) {
    let description = group["description"].as_str().unwrap_or_default();
    let source = group["source_user_attribute"].as_str().unwrap_or_default();
    match description.strip_prefix("put-") {
        Some(n) => assert_eq!(source, format!("src-{n}"), "torn: {group}"),
        None => assert_eq!(source, "$address", "torn: {group}"),
    }
    assert!(group["last_modified_on"].as_str().unwrap() >= group["created_on"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_mixed_requests_keep_every_workspace_consistent() {
    let dir = temp_dir("concurrency");
    let state = dir.join("state.json");
    let env = Arc::new(
        env(Config {
            clients: vec![ClientConfig::new("c", "s", WORKSPACES.to_vec())],
            state_file: Some(state.clone()),
            ..Config::default()
        })
        .await,
    );
    let token = Arc::new(env.token("c", "s").await);

    // Phase 1: ten racing creates per workspace; exactly one wins each.
    let mut creates = Vec::new();
    for ws in WORKSPACES {
        for n in 0..CREATES_PER_WORKSPACE {
            let (env, token) = (env.clone(), token.clone());
            creates.push(tokio::spawn(async move {
                let body = json!({
                    "id": format!("group-{n}"),
                    "description": "created",
                    "source_user_attribute": "$address",
                    "attributes": [{ "id": "has_dog", "type": "boolean_or" }],
                });
                let path = format!("/platform/workspaces/{ws}/groups");
                (ws, env.call(Method::POST, &path, &token, Some(body)).await)
            }));
        }
    }
    let mut winners: HashMap<u64, String> = HashMap::new();
    for task in creates {
        let (ws, answer) = task.await.unwrap();
        match answer.status {
            StatusCode::OK => {
                let id = answer.json()["id"].as_str().unwrap().to_string();
                assert!(winners.insert(ws, id).is_none(), "two creates won in {ws}");
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(answer.error().1.contains("at most 1"), "{}", answer.text)
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    assert_eq!(winners.len(), WORKSPACES.len());
    let winners = Arc::new(winners);

    // Phase 2: PUTs, PATCHes, GETs and lists, all at once.
    let mut tasks = Vec::new();
    for i in 0..MIXED {
        let (env, token, winners) = (env.clone(), token.clone(), winners.clone());
        tasks.push(tokio::spawn(async move {
            let ws = WORKSPACES[i % WORKSPACES.len()];
            let id = &winners[&ws];
            let one = format!("/platform/workspaces/{ws}/groups/{id}");
            let answer = match (i / WORKSPACES.len()) % 4 {
                0 => {
                    let body = json!({
                        "description": format!("put-{i}"),
                        "source_user_attribute": format!("src-{i}"),
                        "attributes": [{ "id": format!("a-{i}"), "type": "sum" }],
                    });
                    env.call(Method::PUT, &one, &token, Some(body)).await
                }
                1 => {
                    let body =
                        json!({ "attributes": [{ "id": format!("p-{i}"), "type": "latest" }] });
                    env.call(Method::PATCH, &one, &token, Some(body)).await
                }
                2 => env.call(Method::GET, &one, &token, None).await,
                _ => {
                    let list = format!("/platform/workspaces/{ws}/groups/");
                    env.call(Method::GET, &list, &token, None).await
                }
            };
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let body = answer.json();
            let group = if body.is_array() {
                body[0].clone()
            } else {
                body
            };
            check_consistent(&group);
            (ws, i, group)
        }));
    }
    let mut seen: HashMap<u64, Vec<(usize, Value)>> = HashMap::new();
    for task in tasks {
        let (ws, i, group) = task.await.unwrap();
        seen.entry(ws).or_default().push((i, group));
    }
    assert_eq!(seen.values().map(Vec::len).sum::<usize>(), MIXED);

    // The final state of each workspace is exactly what one of its writes answered, and
    // the state file holds the same.
    let file: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    for ws in WORKSPACES {
        let path = format!("/platform/workspaces/{ws}/groups");
        let list = env.call(Method::GET, &path, &token, None).await.json();
        let finals = list.as_array().unwrap();
        assert_eq!(finals.len(), 1, "one definition per workspace");
        let last = &finals[0];
        check_consistent(last);
        assert_eq!(last["id"].as_str(), Some(winners[&ws].as_str()));
        assert!(
            seen[&ws].iter().any(|(_, g)| g == last),
            "final state of {ws} matches no answer: {last}"
        );
        // No answer was modified later than the final state.
        for (_, g) in &seen[&ws] {
            assert!(g["last_modified_on"].as_str() <= last["last_modified_on"].as_str());
        }
        assert_eq!(&file["workspaces"][ws.to_string()]["group"], last);
    }
    // Only the state file remains in its directory.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

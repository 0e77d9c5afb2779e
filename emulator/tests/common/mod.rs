//! Helpers shared by the HTTP tests: an emulator on an ephemeral port and a small client.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use group_identity_emulator::{start, ClientConfig, Config, RunningEmulator};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const AUDIENCE: &str = "https://api.mparticle.com";

/// The header that marks a body as JSON; the emulator refuses bodies without it (415).
pub const JSON: (&str, &str) = ("content-type", "application/json");

pub struct Env {
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The first Platform API error code and message.
    pub fn error(&self) -> (String, String) {
        let body = self.json();
        let first = &body["errors"][0];
        (
            first["code"].as_str().unwrap_or_default().to_string(),
            first["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// Two clients: `a` may use 1000 and 2000, `b` only 3000.
pub fn two_clients() -> Config {
    Config {
        clients: vec![
            ClientConfig::new("client-a", "secret-a", vec![1000, 2000]),
            ClientConfig::new("client-b", "secret-b", vec![3000]),
        ],
        ..Config::default()
    }
}

pub async fn env(config: Config) -> Env {
    let emulator = start(config).await.expect("emulator starts");
    let base = emulator.url();
    Env {
        emulator,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        base,
    }
}

impl Env {
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request reaches the emulator");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Answer {
            status,
            headers,
            text,
        }
    }

    /// An authorized JSON call.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Answer {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(JSON);
        }
        self.raw(
            method,
            path,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    pub async fn token_answer(&self, body: Value) -> Answer {
        self.raw(
            Method::POST,
            "/oauth/token",
            &[JSON],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub async fn token(&self, id: &str, secret: &str) -> String {
        let answer = self.token_answer(credentials(id, secret)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}

/// A token request body for the client `id`.
pub fn credentials(id: &str, secret: &str) -> Value {
    json!({
        "client_id": id,
        "client_secret": secret,
        "audience": AUDIENCE,
        "grant_type": "client_credentials",
    })
}

/// The built-in client's token request, as raw bytes for calls that set their own headers.
pub fn token_body() -> Vec<u8> {
    credentials("local-client", "local-secret")
        .to_string()
        .into_bytes()
}

pub fn household() -> Value {
    json!({
        "id": "household",
        "description": "users who share the same physical address",
        "source_user_attribute": "$address",
        "attributes": [{ "id": "has_dog", "type": "boolean_or" }]
    })
}

/// A fresh directory under the system temp dir for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gie-emulator-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

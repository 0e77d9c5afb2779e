//! The command line: startup text, request log without secrets, graceful stop on Ctrl-C.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_group-identity-emulator");

/// A spawned emulator that a failing assertion does not leave running.
struct StopOnDrop(std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Already stopped and reaped when the test went well: then these do nothing.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn runs_logs_without_secrets_and_stops_on_ctrl_c() {
    let mut child = StopOnDrop(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--client",
                "app:topsecret-value:1000,2000",
                "--token-ttl",
                "120",
                "--allow-origin",
                "https://docs.example.com",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the emulator binary starts"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    assert!(!url.ends_with(":0"), "{url}");

    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{url}/oauth/token"))
        .header("origin", "https://docs.example.com")
        .json(&json!({ "client_id": "app", "client_secret": "topsecret-value",
                       "audience": "https://api.mparticle.com", "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://docs.example.com"
    );
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["expires_in"], 120);
    let token = body["access_token"].as_str().unwrap().to_string();
    let answer = http
        .get(format!("{url}/platform/workspaces/2000/groups"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Ctrl-C: a graceful stop with exit status 0.
    let pid = child.0.id().to_string();
    // The shell's own `kill`, so no extra package is needed.
    let signal = format!("kill -INT {pid}");
    assert!(Command::new("sh")
        .args(["-c", &signal])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    let mut banner = first;
    stdout.read_to_string(&mut banner).unwrap();
    let mut log = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(banner.contains("app (workspaces 1000, 2000)"), "{banner}");
    assert!(banner.contains("<secret of app>"), "{banner}");
    assert!(
        banner.contains("this machine (localhost, 127.0.0.1, [::1]), https://docs.example.com;"),
        "{banner}"
    );
    assert!(log.contains("POST /oauth/token 200"), "{log}");
    assert!(
        log.contains("GET /platform/workspaces/2000/groups 200"),
        "{log}"
    );
    assert!(log.contains("client=app"), "{log}");
    for secret in ["topsecret-value", token.as_str()] {
        assert!(!banner.contains(secret), "secret in banner: {banner}");
        assert!(!log.contains(secret), "secret in log: {log}");
    }
}

#[test]
fn default_banner_shows_the_local_client_and_a_curl() {
    let config = group_identity_emulator::Config::default();
    let text = group_identity_emulator::banner("127.0.0.1:8080".parse().unwrap(), &config);
    assert!(text.starts_with("Group Identity API emulator listening on http://127.0.0.1:8080\n"));
    assert!(text.contains("local-client (workspaces 1000)"));
    assert!(text.contains("\"client_secret\":\"local-secret\""));
    assert!(text.contains("curl -s http://127.0.0.1:8080/platform/workspaces/1000/groups"));
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let output = Command::new(BIN).args(["--port", "x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("--port expects"), "{err}");
    assert!(err.contains("USAGE"), "{err}");
}

#[test]
fn a_start_that_fails_prints_no_banner() {
    let dir = std::env::temp_dir().join(format!("gi-emulator-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("broken-state.json");
    std::fs::write(&state, "{ not a state file").unwrap();
    let output = Command::new(BIN)
        .args(["--port", "0", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Scripts take the first line to mean the server is up: none may come.
    assert!(!stdout.contains("listening"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken-state.json"), "{stderr}");
}

#[test]
fn config_errors_never_show_a_secret() {
    let dir = std::env::temp_dir().join(format!("gi-emulator-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let unquoted = dir.join("unquoted.toml");
    std::fs::write(
        &unquoted,
        "[[clients]]\nid = \"app\"\nsecret = TopSecret123\nworkspaces = [1]\n",
    )
    .unwrap();
    let repeated = dir.join("repeated.toml");
    std::fs::write(
        &repeated,
        "[[clients]]\nid = \"app\"\nsecret = \"TopSecret123\"\nsecret = \"TopSecret123\"\n",
    )
    .unwrap();
    for (args, place) in [
        (
            vec!["--config".to_string(), unquoted.display().to_string()],
            "line 3",
        ),
        (
            vec!["--config".to_string(), repeated.display().to_string()],
            "line 4",
        ),
        // The workspaces left out: what follows the last ':' is part of the secret.
        (
            vec!["--client".to_string(), "app:my:TopSecret123".to_string()],
            "app",
        ),
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("TopSecret123"), "{args:?}: {stderr}");
        assert!(stderr.contains(place), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

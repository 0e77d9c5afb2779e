//! A local server that behaves like mParticle's Group Identity API (SPEC section 7).
//!
//! It serves the token endpoint and the six group endpoints on loopback, validates
//! definitions with the `group-identity` core (so client and server cannot disagree),
//! and adds what the live API cannot give a developer: a fault switch for client tests
//! and the weekly group job on demand.
//!
//! ```no_run
//! # async fn demo() -> Result<(), group_identity_emulator::Error> {
//! let emulator = group_identity_emulator::start(group_identity_emulator::Config::default()).await?;
//! println!("emulator at {}", emulator.url());
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod auth;
pub mod config;
mod errors;
mod extract;
mod faults;
mod groups;
mod jobs;
pub mod origins;
mod persist;
mod server;
mod store;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{ClientConfig, Config, ConfigError};
pub use faults::Fault;
pub use origins::AllowedOrigins;
pub use server::router;

/// Why the emulator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("state file {path}: {message}")]
    State { path: String, message: String },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `app` (from [`router`], which reads the state file: build it first, so a bad
/// state file stops the start before anything is served) on `listener` until `shutdown`
/// resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// An emulator running in this process, e.g. for tests.
pub struct RunningEmulator {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), Error>>,
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, waits for the requests in flight and returns the server's outcome.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            // The server may already have stopped; then there is nobody to tell.
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(outcome) => outcome,
            Err(join) => Err(Error::Io(std::io::Error::other(join.to_string()))),
        }
    }
}

/// Starts an emulator on 127.0.0.1 with a free port.
pub async fn start(config: Config) -> Result<RunningEmulator, Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    start_on(listener, config).await
}

/// Starts an emulator on a listener the caller bound.
pub async fn start_on(listener: TcpListener, config: Config) -> Result<RunningEmulator, Error> {
    let addr = listener.local_addr()?;
    // Build the router here so a bad state file fails `start`, not the background task.
    let app = router(config).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await?;
        Ok(())
    });
    Ok(RunningEmulator {
        addr,
        stop: Some(stop),
        task,
    })
}

/// What the emulator prints on start: where it listens and how to call it.
pub fn banner(addr: SocketAddr, config: &Config) -> String {
    let base = format!("http://{addr}");
    let mut text = format!("Group Identity API emulator listening on {base}\n");
    text.push_str(&format!(
        "  token endpoint  POST {base}/oauth/token (tokens live {} s)\n",
        config.token_ttl.as_secs()
    ));
    text.push_str(&format!(
        "  group endpoints {base}/platform/workspaces/{{ws}}/groups[/{{groupId}}]\n"
    ));
    text.push_str("  clients:\n");
    for client in &config.clients {
        let workspaces: Vec<String> = client.workspaces.iter().map(u64::to_string).collect();
        text.push_str(&format!(
            "    {} (workspaces {})\n",
            client.id,
            workspaces.join(", ")
        ));
    }
    if let Some(client) = config.clients.first() {
        // Only the built-in, well-known secret is ever printed; configured ones stay secret.
        let secret = if client.is_builtin_default() {
            client.secret.clone()
        } else {
            format!("<secret of {}>", client.id)
        };
        let workspace = client.workspaces.first().copied().unwrap_or(1000);
        text.push_str(&format!(
            "Try it:\n  TOKEN=$(curl -s -X POST {base}/oauth/token -H 'content-type: application/json' \\\n    \
             -d '{{\"client_id\":\"{}\",\"client_secret\":\"{secret}\",\"audience\":\"https://api.mparticle.com\",\"grant_type\":\"client_credentials\"}}' \\\n    \
             | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n  \
             curl -s {base}/platform/workspaces/{workspace}/groups -H \"Authorization: Bearer $TOKEN\"\n",
            client.id
        ));
    }
    let origins = &config.allowed_origins;
    if origins.any {
        text.push_str("Pages of every origin may call it (--allow-origin *), by any host name.\n");
    } else {
        let mut who = "pages served from this machine (localhost, 127.0.0.1, [::1])".to_string();
        for origin in &origins.listed {
            who.push_str(", ");
            who.push_str(origin);
        }
        text.push_str(&format!(
            "Browser calls (CORS) are answered for {who}; other pages are refused.\n"
        ));
    }
    match &config.state_file {
        Some(path) => text.push_str(&format!("State is kept in {}\n", path.display())),
        None => text.push_str("State is kept in memory only (use --state FILE to keep it)\n"),
    }
    text.push_str("Emulator-only endpoints: /emulator/faults, /emulator/expire-tokens, /emulator/workspaces/{ws}/profiles, /emulator/workspaces/{ws}/run (see the README)\n");
    text.push_str("Ctrl-C stops it.\n");
    text
}

//! Configuration: built-in defaults, command-line flags and an optional TOML file.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::origins::AllowedOrigins;

pub const DEFAULT_CLIENT_ID: &str = "local-client";
pub const DEFAULT_CLIENT_SECRET: &str = "local-secret";
pub const DEFAULT_WORKSPACE: u64 = 1000;
/// The live API's tokens live eight hours.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(28800);
/// The longest token lifetime: a year, far past any session, and well within what a
/// clock's time can be moved by.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(366 * 24 * 3600);
pub const DEFAULT_PORT: u16 = 8080;

/// API credentials the emulator accepts and the workspaces they may use.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub id: String,
    pub secret: String,
    pub workspaces: Vec<u64>,
}

impl ClientConfig {
    pub fn new(id: impl Into<String>, secret: impl Into<String>, workspaces: Vec<u64>) -> Self {
        ClientConfig {
            id: id.into(),
            secret: secret.into(),
            workspaces,
        }
    }

    /// The well-known local client, whose secret is not a secret.
    pub fn is_builtin_default(&self) -> bool {
        self.id == DEFAULT_CLIENT_ID && self.secret == DEFAULT_CLIENT_SECRET
    }
}

// Secrets never reach logs, so Debug leaves them out.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("workspaces", &self.workspaces)
            .finish()
    }
}

/// Everything the server needs (where it listens is the caller's business).
#[derive(Clone, Debug)]
pub struct Config {
    pub clients: Vec<ClientConfig>,
    pub token_ttl: Duration,
    /// Where definitions and profiles are kept across restarts; `None` keeps them in memory.
    pub state_file: Option<PathBuf>,
    /// One line per request on stderr (never secrets, tokens or bodies).
    pub log_requests: bool,
    /// Pages allowed to call besides those served from this machine.
    pub allowed_origins: AllowedOrigins,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clients: vec![ClientConfig::new(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                vec![DEFAULT_WORKSPACE],
            )],
            token_ttl: DEFAULT_TOKEN_TTL,
            state_file: None,
            log_requests: false,
            allowed_origins: AllowedOrigins::default(),
        }
    }
}

impl Config {
    /// Checks what the server relies on: at least one client, unique non-empty ids.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.clients.is_empty() {
            return Err(ConfigError::new("no client configured"));
        }
        let mut seen = HashSet::new();
        for client in &self.clients {
            if client.id.is_empty() || client.secret.is_empty() {
                return Err(ConfigError::new("a client id and secret may not be empty"));
            }
            if !seen.insert(client.id.as_str()) {
                return Err(ConfigError::new(format!(
                    "client id {:?} is configured twice",
                    client.id
                )));
            }
        }
        if self.token_ttl.is_zero() || self.token_ttl > MAX_TOKEN_TTL {
            return Err(ConfigError::new(format!(
                "the token lifetime must be 1 to {} seconds, got {}",
                MAX_TOKEN_TTL.as_secs(),
                self.token_ttl.as_secs()
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help,
    Run(RunOptions),
}

#[derive(Debug)]
pub struct RunOptions {
    pub host: IpAddr,
    pub port: u16,
    pub config: Config,
}

pub const USAGE: &str = "\
group-identity-emulator: a local server that behaves like mParticle's Group Identity API

USAGE: group-identity-emulator [OPTIONS]

OPTIONS:
  --host ADDR            address to listen on (default 127.0.0.1)
  --port PORT            port to listen on (default 8080; 0 picks a free one and prints it)
  --client ID:SECRET:WS  a client and the workspaces it may use, e.g. app:s3cret:1000,2000
                         (repeatable; without any, the client local-client:local-secret:1000)
  --config FILE          a TOML file with host, port, token_ttl, state, quiet,
                         allow_origins (a list) and [[clients]]
                         (id, secret, workspaces); flags override it, clients add up
  --token-ttl SECONDS    token lifetime (default 28800, eight hours like the live API)
  --state FILE           keep definitions, profiles and job results in FILE across restarts
  --allow-origin ORIGIN  let pages of ORIGIN call, e.g. https://docs.example.com
                         (repeatable; * allows every page and host name). Without it
                         only pages served from this machine may call
  --quiet                no request log
  -h, --help             this text
";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    host: Option<IpAddr>,
    port: Option<u16>,
    token_ttl: Option<u64>,
    state: Option<PathBuf>,
    quiet: Option<bool>,
    #[serde(default)]
    allow_origins: Vec<String>,
    #[serde(default)]
    clients: Vec<FileClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClient {
    id: String,
    secret: String,
    workspaces: Vec<u64>,
}

/// Reads the command line (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, ConfigError> {
    let mut host = None;
    let mut port = None;
    let mut ttl = None;
    let mut state = None;
    let mut quiet = false;
    let mut config_file = None;
    let mut clients = Vec::new();
    let mut origins = Vec::new();

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, ConfigError> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) => Ok(v),
                None => Err(ConfigError::new(format!("{name} needs a value"))),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--host" => host = Some(parse_host(&value("--host")?)?),
            "--port" => port = Some(parse_port(&value("--port")?)?),
            "--token-ttl" => ttl = Some(parse_ttl(&value("--token-ttl")?)?),
            "--state" => state = Some(PathBuf::from(value("--state")?)),
            "--config" => config_file = Some(PathBuf::from(value("--config")?)),
            "--client" => clients.push(parse_client(&value("--client")?)?),
            "--allow-origin" => origins.push(value("--allow-origin")?),
            "--quiet" => quiet = true,
            // A flag's name is echoed; anything else may be a client's `id:secret:...`
            // typed without its `--client`, so it is not.
            other if other.starts_with('-') && !other.contains(['=', ':']) => {
                return Err(ConfigError::new(format!(
                    "unknown argument {other:?} (see --help)"
                )))
            }
            _ => {
                return Err(ConfigError::new(
                    "an argument that is not a flag (not shown: it may hold a secret; a client \
                     is given as --client ID:SECRET:WORKSPACES, see --help)",
                ))
            }
        }
    }

    let mut file_clients = Vec::new();
    if let Some(path) = &config_file {
        let file = read_file_config(path)?;
        host = host.or(file.host);
        port = port.or(file.port);
        if ttl.is_none() {
            ttl = file.token_ttl.map(Duration::from_secs);
        }
        if state.is_none() {
            // A relative path in the file is relative to the file, not to where we run.
            state = file.state.map(|s| match path.parent() {
                Some(dir) if s.is_relative() => dir.join(s),
                _ => s,
            });
        }
        quiet = quiet || file.quiet.unwrap_or(false);
        origins.splice(0..0, file.allow_origins);
        for client in file.clients {
            file_clients.push(ClientConfig::new(
                client.id,
                client.secret,
                client.workspaces,
            ));
        }
    }
    file_clients.extend(clients);

    let mut config = Config {
        log_requests: !quiet,
        state_file: state,
        ..Config::default()
    };
    if let Some(ttl) = ttl {
        config.token_ttl = ttl;
    }
    if !file_clients.is_empty() {
        config.clients = file_clients;
    }
    for origin in &origins {
        config
            .allowed_origins
            .add(origin)
            .map_err(ConfigError::new)?;
    }
    config.check()?;
    Ok(Command::Run(RunOptions {
        host: host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: port.unwrap_or(DEFAULT_PORT),
        config,
    }))
}

fn read_file_config(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        // toml's own text quotes the offending line, which may hold a secret: give the
        // place and the reason only.
        let line = e.span().map_or(0, |span| {
            1 + text
                .get(..span.start)
                .map_or(0, |before| before.matches('\n').count())
        });
        ConfigError::new(format!(
            "config file {}, line {line}: {}",
            path.display(),
            without_value(e.message().trim_end())
        ))
    })
}

/// A deserializer's reason without the value it found: "invalid type: integer `1234`,
/// expected a string" names a `secret` given as a number. The kind of value stays.
fn without_value(message: &str) -> String {
    for lead in ["invalid type: ", "invalid value: ", "invalid length: "] {
        if let Some(rest) = message.strip_prefix(lead) {
            let kind = rest
                .split(['`', '"', ','])
                .next()
                .unwrap_or_default()
                .trim();
            let expected = rest
                .rfind(", expected ")
                .and_then(|at| rest.get(at..))
                .unwrap_or_default();
            return format!("{lead}{kind} (value not shown){expected}");
        }
    }
    message.to_string()
}

fn parse_host(text: &str) -> Result<IpAddr, ConfigError> {
    if text == "localhost" {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    text.parse().map_err(|_| {
        ConfigError::new(format!(
            "--host expects an IP address such as 127.0.0.1 or 0.0.0.0, got {text:?}"
        ))
    })
}

fn parse_port(text: &str) -> Result<u16, ConfigError> {
    text.parse()
        .map_err(|_| ConfigError::new(format!("--port expects 0 to 65535, got {text:?}")))
}

fn parse_ttl(text: &str) -> Result<Duration, ConfigError> {
    match text.parse::<u64>().map(Duration::from_secs) {
        Ok(ttl) if !ttl.is_zero() && ttl <= MAX_TOKEN_TTL => Ok(ttl),
        _ => Err(ConfigError::new(format!(
            "--token-ttl expects a whole number of seconds, 1 to {}, got {text:?}",
            MAX_TOKEN_TTL.as_secs()
        ))),
    }
}

/// `ID:SECRET:WS[,WS...]`; the secret may itself contain `:`.
pub fn parse_client(text: &str) -> Result<ClientConfig, ConfigError> {
    let shape = || {
        ConfigError::new(
            "--client expects ID:SECRET:WORKSPACES, e.g. app:s3cret:1000,2000".to_string(),
        )
    };
    let (id, rest) = text.split_once(':').ok_or_else(shape)?;
    let (secret, workspaces) = rest.rsplit_once(':').ok_or_else(shape)?;
    if id.is_empty() || secret.is_empty() {
        return Err(shape());
    }
    let mut ids = Vec::new();
    for part in workspaces.split(',') {
        let part = part.trim();
        match part.parse::<u64>() {
            Ok(ws) => ids.push(ws),
            // Never echo any of the rest: when the workspaces were left out, what stands
            // after the last `:` is part of the secret.
            Err(_) => {
                return Err(ConfigError::new(format!(
                    "--client {id}: the workspace ids after the last ':' must be whole numbers (what was there is not shown: it may be part of the secret)"
                )))
            }
        }
    }
    Ok(ClientConfig::new(id, secret, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn run(list: &[&str]) -> RunOptions {
        match parse_args(args(list)) {
            Ok(Command::Run(options)) => options,
            other => panic!("expected run options, got {other:?}"),
        }
    }

    #[test]
    fn defaults_give_the_local_client() {
        let options = run(&[]);
        assert_eq!(options.port, 8080);
        assert_eq!(options.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(options.config.clients.len(), 1);
        assert!(options.config.clients[0].is_builtin_default());
        assert_eq!(options.config.clients[0].workspaces, vec![1000]);
        assert_eq!(options.config.token_ttl, DEFAULT_TOKEN_TTL);
        assert!(options.config.log_requests);
    }

    #[test]
    fn clients_flags_replace_the_default() {
        let options = run(&[
            "--client",
            "a:pa:ss:1000,2000",
            "--client=b:x:3000",
            "--port",
            "0",
            "--token-ttl=5",
            "--quiet",
        ]);
        let clients = &options.config.clients;
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].id, "a");
        assert_eq!(clients[0].secret, "pa:ss");
        assert_eq!(clients[0].workspaces, vec![1000, 2000]);
        assert_eq!(clients[1].workspaces, vec![3000]);
        assert_eq!(options.port, 0);
        assert_eq!(options.config.token_ttl, Duration::from_secs(5));
        assert!(!options.config.log_requests);
    }

    #[test]
    fn bad_flags_are_named_without_the_secret() {
        let err = parse_args(args(&["--client", "a:topsecret:x1"])).unwrap_err();
        assert!(err.message.contains("--client a:"), "{}", err.message);
        // Not even the part after the last ':', which may be the secret's tail.
        assert!(!err.message.contains("topsecret"), "{}", err.message);
        assert!(!err.message.contains("x1"), "{}", err.message);
        assert!(parse_args(args(&["--client", "nosecret"])).is_err());
        assert!(parse_args(args(&["--token-ttl", "0"])).is_err());
        // Past a year; the largest would overflow the clock when a token is issued.
        for ttl in ["31622401", "18446744073709551615"] {
            let err = parse_args(args(&["--token-ttl", ttl])).unwrap_err();
            assert!(err.message.contains("1 to 31622400"), "{}", err.message);
        }
        assert!(parse_args(args(&["--token-ttl", "31622400"])).is_ok());
        assert!(parse_args(args(&["--port", "70000"])).is_err());
        assert!(parse_args(args(&["--port"])).is_err());
        let err = parse_args(args(&["--bogus"])).unwrap_err();
        assert!(err.message.contains("--bogus"), "{}", err.message);
        // A client typed without its flag is not echoed.
        for stray in ["app:s3cret:1000", "-app:s3cret:1", "-c=s3cret"] {
            let err = parse_args(args(&[stray])).unwrap_err();
            assert!(!err.message.contains("s3cret"), "{}", err.message);
        }
        assert!(parse_args(args(&["--client", "a:b:1", "--client", "a:c:2"])).is_err());
    }

    #[test]
    fn allowed_origins_come_from_flags_and_the_file() {
        let dir = std::env::temp_dir().join(format!("gie-origins-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("emulator.toml");
        std::fs::write(&file, "allow_origins = [\"https://docs.example.com\"]\n").unwrap();
        let options = run(&[
            "--config",
            file.to_str().unwrap(),
            "--allow-origin",
            "http://devbox:3000",
        ]);
        let origins = &options.config.allowed_origins;
        assert_eq!(
            origins.listed,
            ["https://docs.example.com", "http://devbox:3000"]
        );
        assert!(!origins.any);
        assert!(run(&["--allow-origin=*"]).config.allowed_origins.any);
        assert!(!run(&[])
            .config
            .allowed_origins
            .allows("https://docs.example.com"));
        let err = parse_args(args(&["--allow-origin", "docs.example.com"])).unwrap_err();
        assert!(
            err.message.contains("--allow-origin expects"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn config_file_is_read_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("gie-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("emulator.toml");
        std::fs::write(
            &file,
            "port = 9000\ntoken_ttl = 60\nstate = \"state.json\"\n\
             [[clients]]\nid = \"f\"\nsecret = \"fs\"\nworkspaces = [1, 2]\n",
        )
        .unwrap();
        let options = run(&["--config", file.to_str().unwrap(), "--port", "9001"]);
        assert_eq!(options.port, 9001);
        assert_eq!(options.config.token_ttl, Duration::from_secs(60));
        assert_eq!(options.config.state_file, Some(dir.join("state.json")));
        assert_eq!(options.config.clients[0].workspaces, vec![1, 2]);

        std::fs::write(&file, "token_ttl = 9223372036854775807\n").unwrap();
        let err = parse_args(args(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(err.message.contains("token lifetime"), "{}", err.message);

        // A secret of the wrong type is named by its kind, never by its value.
        std::fs::write(
            &file,
            "[[clients]]\nid = \"f\"\nsecret = 8675309\nworkspaces = [1]\n",
        )
        .unwrap();
        let err = parse_args(args(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert!(err.message.contains("integer"), "{}", err.message);
        assert!(!err.message.contains("8675309"), "{}", err.message);
        std::fs::write(&file, "[[clients]]\nid = \"f\"\nsecret = [\"s3cr3t\"]\n").unwrap();
        let err = parse_args(args(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(!err.message.contains("s3cr3t"), "{}", err.message);

        std::fs::write(&file, "prot = 9000\n").unwrap();
        let err = parse_args(args(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(err.message.contains("prot"), "{}", err.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_hides_secrets() {
        let client = ClientConfig::new("a", "hunter2", vec![1]);
        assert!(!format!("{client:?}").contains("hunter2"));
    }
}

//! Which web pages may call the emulator. Listening on loopback keeps other machines out,
//! not other pages: any site open in the developer's browser can send requests to
//! 127.0.0.1. So a request that names an `Origin` is served only for a page on this
//! machine (or one allowed with `--allow-origin`), and its `Host` must name this machine
//! (an IP address or `localhost`), which defeats DNS rebinding: a site that points its own
//! name at 127.0.0.1 still sends that name as the host.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{shorten, ApiError};
use crate::server::AppState;

/// Pages allowed besides those served from this machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    /// Every page, and every host name (`--allow-origin '*'`).
    pub any: bool,
    /// Exact origins, `scheme://host[:port]`, lower-case.
    pub listed: Vec<String>,
}

impl AllowedOrigins {
    /// Adds an origin as `--allow-origin` gives it: `*`, or `http(s)://host[:port]`.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        if text == "*" {
            self.any = true;
            return Ok(());
        }
        let origin = text.trim_end_matches('/').to_ascii_lowercase();
        match split_origin(&origin) {
            Some((scheme, _)) => {
                // Browsers never write a scheme's default port in an Origin.
                let default_port = if scheme == "https" { ":443" } else { ":80" };
                let origin = origin
                    .strip_suffix(default_port)
                    .map_or(origin.clone(), str::to_owned);
                self.listed.push(origin);
                Ok(())
            }
            None => Err(format!(
                "--allow-origin expects * or an origin such as https://docs.example.com or \
                 http://devbox:3000 (scheme, host and port only), got {text:?}"
            )),
        }
    }

    /// Whether a page of this origin (the `Origin` header's value) may call.
    pub fn allows(&self, origin: &str) -> bool {
        if self.any {
            return true;
        }
        let origin = origin.to_ascii_lowercase();
        match split_origin(&origin) {
            Some((_, host)) if is_local_name(host) => true,
            Some(_) => self.listed.contains(&origin),
            // `null` (a file or a sandboxed frame) and anything malformed.
            None => false,
        }
    }

    /// Whether a request addressed to this `Host` header's value is served.
    fn allows_host(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let host = host.to_ascii_lowercase();
        let name = strip_port(&host);
        name.is_some_and(|name| {
            is_ip(name)
                || is_local_name(name)
                || self
                    .listed
                    .iter()
                    .any(|o| split_origin(o).is_some_and(|(_, h)| h == name))
        })
    }
}

/// Middleware: 403 for a page not allowed, or a host name that is not this machine's.
/// CORS alone would not do: it only hides the answer from the page, after the emulator
/// has acted (a form post needs no preflight).
pub async fn gate(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match check(&app.allowed_origins, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(message) => {
            ApiError::for_path(request.uri().path(), StatusCode::FORBIDDEN, message).into_response()
        }
    }
}

fn check(allowed: &AllowedOrigins, headers: &HeaderMap) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !allowed.allows(origin) {
            return Err(format!(
                "calls from pages of {:?} are refused: only pages served from this machine \
                 may call the emulator (start it with --allow-origin ORIGIN to allow another)",
                shorten(origin, 80)
            ));
        }
    }
    // Behind a proxy (trunk's, for `make play`) the host the page asked for is in
    // X-Forwarded-Host; Host then names the emulator itself.
    let forwarded = HeaderName::from_static("x-forwarded-host");
    for host in [headers.get(header::HOST), headers.get(forwarded)]
        .into_iter()
        .flatten()
    {
        let host = host.to_str().unwrap_or_default();
        if !allowed.allows_host(host) {
            return Err(format!(
                "requests addressed to host {:?} are refused: use an IP address or localhost \
                 (a name that points at this machine may be a DNS rebinding attack; \
                 --allow-origin http://NAME:PORT allows a name)",
                shorten(host, 80)
            ));
        }
    }
    Ok(())
}

/// `(scheme, host)` of a lower-case origin `http(s)://host[:port]`.
fn split_origin(origin: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = strip_port(rest)?;
    let name_ok = !host.is_empty()
        && (is_ip(host)
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    name_ok.then_some((scheme, host))
}

/// The host of `host[:port]` (`[v6]` keeps its brackets); `None` for a bad port or a path.
fn strip_port(text: &str) -> Option<&str> {
    let (host, port) = match text.rfind(':') {
        // A colon inside `[...]` belongs to an IPv6 address.
        Some(at) if !text.get(at..)?.contains(']') => (text.get(..at)?, text.get(at + 1..)),
        _ => (text, None),
    };
    if let Some(port) = port {
        if !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
            return None;
        }
    }
    (!host.contains(['/', '?', '#', '@'])).then_some(host)
}

/// The address a host names, `[v6]` with its brackets or v4 as written; `None` for a name.
fn ip_of(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

fn is_ip(host: &str) -> bool {
    ip_of(host).is_some()
}

/// A name or address that always means this machine: loopback addresses, `localhost`
/// and its subdomains (RFC 6761).
fn is_local_name(host: &str) -> bool {
    match ip_of(host) {
        Some(ip) => ip.is_loopback(),
        None => host == "localhost" || host.ends_with(".localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

    #[test]
    fn pages_of_this_machine_are_allowed_and_others_only_when_listed() {
        let mut allowed = AllowedOrigins::default();
        for origin in [
            "http://127.0.0.1:8000",
            "http://localhost:3000",
            "https://LOCALHOST",
            "http://app.localhost:5173",
            "http://[::1]:8000",
            "http://127.4.5.6",
        ] {
            assert!(allowed.allows(origin), "{origin}");
        }
        for origin in [
            "https://docs.example.com",
            "null",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://10.0.0.2:8000",
            "file://",
            "",
        ] {
            assert!(!allowed.allows(origin), "{origin}");
        }
        allowed.add("https://Docs.Example.com/").unwrap();
        assert!(allowed.allows("https://docs.example.com"));
        allowed.add("https://secure.example.com:443").unwrap();
        allowed.add("http://plain.example.com:80").unwrap();
        allowed.add("http://other.example.com:443").unwrap();
        assert!(allowed.allows("https://secure.example.com"));
        assert!(allowed.allows("http://plain.example.com"));
        assert!(allowed.allows("http://other.example.com:443"));
        assert!(!allowed.allows("http://docs.example.com"));
        assert!(allowed.add("docs.example.com").is_err());
        assert!(allowed.add("https://docs.example.com/path").is_err());
        assert!(allowed.add("https://docs.example.com:99999").is_err());
        allowed.add("*").unwrap();
        assert!(allowed.allows("null"));
    }

    #[test]
    fn hosts_must_name_this_machine() {
        let mut allowed = AllowedOrigins::default();
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "localhost",
            "[::1]:8080",
            "192.168.1.20:8080",
            "x.localhost",
        ] {
            assert!(allowed.allows_host(host), "{host}");
        }
        for host in ["evil.example:8080", "evil.example", "127.0.0.1:80x", "a/b"] {
            assert!(!allowed.allows_host(host), "{host}");
        }
        allowed.add("http://devbox:3000").unwrap();
        assert!(allowed.allows_host("devbox:8080"));
    }
}

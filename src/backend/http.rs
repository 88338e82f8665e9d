//! The one HTTP layer every adapter shares: rustls, timeouts, a user agent,
//! the error shape decoded into `BackendError`, `Retry-After` honoured for
//! idempotent requests only, 401 mapped to "sign in again", and plain
//! `http://` refused unless it goes to loopback.

use super::first_connection::{FirstConnection, Http2Servers};
use super::{BackendError, Result};
use crate::protocol::ErrorBody;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// Per-request timeout unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How often an idempotent request is retried after a 429/503.
const MAX_RETRIES: u32 = 2;
/// The longest `Retry-After` secinfo waits by itself; beyond it the user is told.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);
/// The largest reply read: a hostile server cannot exhaust memory.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct HttpClient {
    base: Url,
    client: reqwest::Client,
    timeout: Duration,
}

/// Parse a server URL, refusing plain HTTP except to loopback.
pub fn parse_base_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw)
        .map_err(|e| BackendError::Insecure(format!("'{raw}' is not a valid URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(BackendError::Insecure(format!(
                "'{raw}' uses plain http://; only https:// is allowed except to loopback (127.0.0.1, ::1, localhost)"
            )));
        }
        other => {
            return Err(BackendError::Insecure(format!(
                "'{raw}' has scheme '{other}'; use https://"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echoed: the part before '@' may be a password.
        return Err(BackendError::Insecure(format!(
            "the server URL for {} carries a user name or password; put credentials in the sign-in, not the URL",
            url.host_str().unwrap_or("the server")
        )));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Whether `url` names this computer (127.0.0.0/8, ::1, `localhost`), without asking a resolver.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl HttpClient {
    /// `ca_file`: an extra PEM root to trust (a private CA).
    pub fn new(
        base_url: &str,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self> {
        Self::remembering(base_url, timeout, ca_file, Http2Servers::in_state_dir())
    }

    /// Like [`HttpClient::new`], with the servers known to speak HTTP/2 kept in
    /// `servers` (see `first_connection`).
    pub fn remembering(
        base_url: &str,
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
        servers: Http2Servers,
    ) -> Result<Self> {
        let base = parse_base_url(base_url)?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("secinfo/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .https_only(!is_loopback(&base))
            // A redirect would carry a bearer header or a password body to wherever it points.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(&base) {
            // A proxy has no business seeing loopback traffic (plain http:// is allowed there).
            builder = builder.no_proxy();
        }
        if base.scheme() == "http" {
            // Every request stays under a plain http:// base (`url`), so this
            // client never speaks TLS: reading the system's CA store (every file
            // in /etc/ssl/certs) would only add milliseconds to each start.
            builder = builder.tls_certs_only(std::iter::empty());
        } else {
            // HTTP/2 is chosen in the TLS handshake (ALPN): plain http:// is HTTP/1.1.
            let origin = base.origin().ascii_serialization();
            builder = builder.connector_layer(FirstConnection::new(origin, servers));
        }
        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                BackendError::Insecure(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                BackendError::Insecure(format!("CA file {} is not PEM: {e}", path.display()))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| BackendError::Insecure(format!("cannot set up TLS: {e}")))?;
        Ok(Self {
            base,
            client,
            timeout,
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `path` under the base URL, exactly: URL parsing treats `..` (even
    /// percent-encoded) as a step up, so a joined path that is not the one
    /// asked for means an id tried to change which resource is named.
    pub fn url(&self, path: &str) -> Result<Url> {
        let path = path.trim_start_matches('/');
        let url = self
            .base
            .join(path)
            .map_err(|e| BackendError::Malformed(format!("bad path {path}: {e}")))?;
        let asked = path.split(['?', '#']).next().unwrap_or_default();
        if url.path() != format!("{}{asked}", self.base.path()) {
            return Err(BackendError::Malformed(
                "an id from the server would change the request's path; refused".into(),
            ));
        }
        Ok(url)
    }

    /// A request builder for `path` relative to the base URL.
    pub fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        Ok(self.client.request(method, self.url(path)?))
    }

    /// Send, retrying idempotent requests on 429/503 within `Retry-After`,
    /// and decode a success body as JSON.
    pub async fn json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = self.send(req).await?;
        decode_json(resp).await
    }

    /// Send and expect a success with no body worth reading.
    pub async fn empty(&self, req: RequestBuilder) -> Result<()> {
        self.send(req).await.map(drop)
    }

    /// Send with the shared policy; any non-success becomes a `BackendError`.
    pub async fn send(&self, req: RequestBuilder) -> Result<Response> {
        let resp = self.send_any(req).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let retry_after = retry_after(&resp);
        Err(error_from(resp, retry_after).await)
    }

    /// Send with the shared policy (timeouts, `Retry-After` retries for
    /// idempotent requests) and hand back the last response whatever its
    /// status: for providers with their own error shape (Microsoft Graph),
    /// which read the status, headers and body themselves.
    pub async fn send_any(&self, req: RequestBuilder) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let (client, built) = req
                .try_clone()
                .ok_or_else(|| BackendError::Malformed("request body cannot be replayed".into()))?
                .build_split();
            let request = built.map_err(|e| BackendError::Malformed(e.to_string()))?;
            let idempotent = matches!(
                *request.method(),
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
            );
            let url = request.url().clone();
            tracing::debug!(method = %request.method(), path = url.path(), "request");
            let resp = client
                .execute(request)
                .await
                .map_err(|e| self.transport_error(&url, e))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status.is_redirection() {
                return Err(redirected(status));
            }
            let retry_after = retry_after(&resp);
            let retryable = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            if idempotent && retryable && attempt < MAX_RETRIES {
                let wait = retry_after.unwrap_or(Duration::from_millis(500));
                if wait <= MAX_RETRY_WAIT {
                    tracing::info!(
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    continue;
                }
            }
            return Ok(resp);
        }
    }

    /// Send once and hand back the status and body whatever they are: for
    /// providers whose error bodies are not secinfo's shape (privacyIDEA).
    /// Transport failures still become the shared errors.
    pub async fn send_raw(&self, req: RequestBuilder) -> Result<(StatusCode, Vec<u8>)> {
        let url = self.base.clone();
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(redirected(status));
        }
        let wait = retry_after(&resp);
        let body = read_capped(resp).await?;
        // Throttling and "come back later" are the same whoever says them
        // (often a proxy in front, whose body is not the provider's shape).
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(BackendError::Throttled {
                retry_after: wait.map_or(1, |d| d.as_secs().max(1)),
            });
        }
        if let Some(wait) = wait.filter(|_| status.is_server_error())
            && serde_json::from_slice::<serde_json::Value>(&body).is_err()
        {
            return Err(server_error(status, &body, Some(wait.as_secs())));
        }
        Ok((status, body))
    }

    /// A diagnostic GET for `secinfo doctor`: the status and the server's
    /// clock (the `Date` header), whatever the status.
    pub async fn probe(&self, path: &str) -> Result<(u16, Option<chrono::DateTime<chrono::Utc>>)> {
        let url = self.url(path)?;
        let resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let date = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        Ok((resp.status().as_u16(), date))
    }

    fn transport_error(&self, url: &Url, e: reqwest::Error) -> BackendError {
        let url_text = format!("{}://{}", url.scheme(), url.authority());
        if e.is_timeout() {
            BackendError::Timeout(self.timeout)
        } else if connection_broke(&e) {
            BackendError::ConnectionLost { url: url_text }
        } else {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason = format!("{reason}: {s}");
                source = s.source();
            }
            BackendError::Unreachable {
                url: url_text,
                reason,
            }
        }
    }
}

/// A connection that was made, then reset or closed before the answer came:
/// the request may have reached the server (unlike a refused connection).
fn connection_broke(e: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            );
        }
        source = s.source();
    }
    false
}

/// Room for a request body, so writing it never moves it (a move would leave
/// an unwiped copy behind): every body secinfo sends is far smaller.
const BODY_ROOM: usize = 8 * 1024;

/// A request body's bytes, wiped when the last user lets go of them:
/// reqwest sends this very buffer (retries share it), so the password, code
/// or token in it is not left in freed memory.
struct Wiped(Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

fn wiped_body(req: RequestBuilder, bytes: Vec<u8>, content_type: &'static str) -> RequestBuilder {
    req.header(CONTENT_TYPE, HeaderValue::from_static(content_type))
        .body(bytes::Bytes::from_owner(Wiped(bytes)))
}

/// `req` with `body` as JSON, in a buffer wiped once sent. The one way a
/// JSON body is attached, whether or not it holds a secret.
pub fn json_body<T: serde::Serialize + ?Sized>(
    req: RequestBuilder,
    body: &T,
) -> Result<RequestBuilder> {
    let mut bytes = Vec::with_capacity(BODY_ROOM);
    serde_json::to_writer(&mut bytes, body)
        .map_err(|e| BackendError::Malformed(format!("cannot write the request: {e}")))?;
    Ok(wiped_body(req, bytes, "application/json"))
}

/// `req` with a form body (OAuth's token requests), in a buffer wiped once sent.
pub fn form_body(req: RequestBuilder, form: &[(&str, &str)]) -> RequestBuilder {
    let mut text = String::with_capacity(BODY_ROOM);
    url::form_urlencoded::Serializer::new(&mut text).extend_pairs(form);
    wiped_body(req, text.into_bytes(), "application/x-www-form-urlencoded")
}

/// The `Retry-After` header in seconds, when it is given that way.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Decode a success body; a body that is not the expected JSON is `Malformed`.
pub async fn decode_json<T: DeserializeOwned>(resp: Response) -> Result<T> {
    let bytes = read_capped(resp).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        BackendError::Malformed(format!("{} ({})", json_problem(&e), describe(&bytes)))
    })
}

/// What is wrong with a body, by kind and place only: serde's own message
/// quotes the values it met (`invalid type: string "…"`), and a value in the
/// wrong place may be a token.
pub fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "it could not be read",
        Category::Syntax => "it is not valid JSON",
        Category::Eof => "it ends too soon",
        Category::Data => "its JSON does not have the expected shape",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

/// The body, up to `MAX_BODY`; a longer one is refused, not read.
pub async fn read_capped(mut resp: Response) -> Result<Vec<u8>> {
    let too_big = || {
        BackendError::Malformed(format!(
            "the reply is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        ))
    };
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| BackendError::Malformed(format!("the reply broke off: {e}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One path segment (or query value), fully percent-encoded: only letters,
/// digits, `-` and `_` stay as they are, so an id of `..` or `a/b` cannot
/// change which resource a request names.
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// What an unreadable body looks like, without echoing it: it may hold a token.
pub fn describe(bytes: &[u8]) -> String {
    let start = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match start {
        None => "an empty reply".into(),
        Some(b'<') => format!("{} bytes of HTML: a proxy or login page?", bytes.len()),
        Some(_) => format!("{} bytes that are not the expected JSON", bytes.len()),
    }
}

/// A 3xx: never followed (a redirect could carry a bearer header or a
/// password body to another host), said plainly.
pub fn redirected(status: StatusCode) -> BackendError {
    BackendError::Server {
        status: status.as_u16(),
        message: REDIRECT.into(),
    }
}

const REDIRECT: &str = "it redirects elsewhere, which secinfo does not follow (a redirect could carry \
     your sign-in to another host); set the profile's url to the final address";

/// A failure whose body is not an error the client can read: its status's
/// name and what the body looks like, never the body itself (it may be a
/// page of HTML, or hold a token), and when to come back if the server said.
pub fn server_error(status: StatusCode, bytes: &[u8], retry_after: Option<u64>) -> BackendError {
    let mut message = format!(
        "{} ({})",
        status.canonical_reason().unwrap_or("error"),
        describe(bytes)
    );
    if let Some(secs) = retry_after {
        message.push_str(&format!("; try again in {secs} s"));
    }
    BackendError::Server {
        status: status.as_u16(),
        message,
    }
}

/// Turn a non-success response into the matching error, reading the
/// native error shape when the body has it.
async fn error_from(resp: Response, retry_after: Option<Duration>) -> BackendError {
    let status = resp.status();
    let bytes = read_capped(resp).await.unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    let (code, message) = match &body {
        Some(b) => (b.error.code.clone(), b.error.message.clone()),
        None if status.is_redirection() => return redirected(status),
        // Not the error shape: described, never quoted (a proxy's page, or a token).
        None => (String::new(), String::new()),
    };
    let retry = retry_after
        .map(|d| d.as_secs())
        .or_else(|| body.as_ref().and_then(|b| b.error.retry_after));
    match status {
        StatusCode::UNAUTHORIZED if code == crate::protocol::codes::INVALID_CREDENTIALS => {
            BackendError::InvalidCredentials
        }
        StatusCode::UNAUTHORIZED
            if code.is_empty() || code == crate::protocol::codes::UNAUTHORIZED =>
        {
            BackendError::SignInRequired
        }
        StatusCode::TOO_MANY_REQUESTS => BackendError::Throttled {
            retry_after: retry.unwrap_or(1),
        },
        StatusCode::FORBIDDEN if code == crate::protocol::codes::STEP_UP_REQUIRED => {
            BackendError::StepUpRequired
        }
        s if s.is_client_error() && !code.is_empty() => {
            BackendError::rejected(super::Refusal::from_native(&code), message)
        }
        s if body.is_none() => server_error(s, &bytes, retry_after.map(|d| d.as_secs())),
        s => BackendError::Server {
            status: s.as_u16(),
            message: match retry_after {
                Some(d) if s.is_server_error() => {
                    format!("{message}; try again in {} s", d.as_secs())
                }
                _ => message,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_sent_from_the_buffer_that_is_wiped_and_reads_as_it_should() {
        let client = reqwest::Client::new();
        let req = json_body(
            client.post("http://127.0.0.1:1/v1/auth/login"),
            &serde_json::json!({"password": "hunter2"}),
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        let sent = req.body().and_then(|b| b.as_bytes()).unwrap();
        assert_eq!(sent, br#"{"password":"hunter2"}"#);
        let form = form_body(
            client.post("http://127.0.0.1:1/t"),
            &[("device_code", "a b&c")],
        )
        .build()
        .unwrap();
        let sent = form.body().and_then(|b| b.as_bytes()).unwrap();
        assert_eq!(sent, b"device_code=a+b%26c");
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://[::1]:8080").is_ok());
        assert!(parse_base_url("http://localhost:1").is_ok());
        let err = parse_base_url("http://idp.example.com").unwrap_err();
        assert!(err.to_string().contains("plain http://"), "{err}");
        assert!(parse_base_url("https://idp.example.com").is_ok());
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn ids_cannot_change_the_request_path() {
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(segment("enr_12-ab"), "enr_12-ab");
        let c = HttpClient::new("https://idp.example.com/api", DEFAULT_TIMEOUT, None).unwrap();
        // URL parsing takes even an encoded `..` as a step up: the client refuses it.
        assert!(c.url(&format!("v1/me/methods/{}", segment(".."))).is_err());
        assert!(c.url("v1/me/methods/../../admin").is_err());
        let fine = c
            .url(&format!("v1/me/methods/{}?confirm=a%20b", segment("m 1")))
            .unwrap();
        assert_eq!(fine.path(), "/api/v1/me/methods/m%201");
    }

    #[test]
    fn a_url_with_a_user_name_or_password_is_refused_without_echoing_it() {
        let err = parse_base_url("https://alice:hunter2@idp.example.com").unwrap_err();
        assert!(err.to_string().contains("user name or password"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn base_url_keeps_its_path_when_joining() {
        let c = HttpClient::new("https://idp.example.com/pi", DEFAULT_TIMEOUT, None).unwrap();
        assert_eq!(
            c.url("/auth").unwrap().as_str(),
            "https://idp.example.com/pi/auth"
        );
    }
}

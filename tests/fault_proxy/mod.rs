//! A fault-injecting HTTP proxy on loopback, in front of a real server (the
//! reference server, a live privacyIDEA, the Graph-shaped test server).
//! Every request is forwarded as it is, unless a rule matches it: then the
//! proxy delays, resets, truncates, answers a status of its own, sends HTML,
//! turns the real JSON's types around, sends a body too large, or redirects
//! to another host. Each connection carries one request (`Connection: close`),
//! so a fault never leaks into the next request.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does instead of (or to) the real answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request reaches the server (which acts on it); its answer is held
    /// until the client gives up and hangs up.
    Delay,
    /// The connection is reset (RST) once the request is read; the server never sees it.
    Reset,
    /// The real answer's headers, then half its body, then the connection closes.
    Truncate,
    /// An answer of this status with a short plain-text body, and `Retry-After`
    /// in seconds when given.
    Status(u16, Option<u64>),
    /// 200 with an HTML login page, as a captive portal or a proxy sends.
    Html,
    /// The real answer, its JSON's strings turned into numbers and the rest into strings.
    WrongTypes,
    /// 200 with a body larger than the client's limit (`http::MAX_BODY`).
    TooLarge,
    /// 302 to another host.
    Redirect,
}

impl Fault {
    /// Every fault of the matrix, in the order of its table.
    pub fn all() -> Vec<Fault> {
        let mut all = vec![Fault::Delay, Fault::Reset, Fault::Truncate];
        for status in [500, 502, 503, 429] {
            all.push(Fault::Status(status, None));
            all.push(Fault::Status(status, Some(120)));
        }
        all.extend([
            Fault::Html,
            Fault::WrongTypes,
            Fault::TooLarge,
            Fault::Redirect,
        ]);
        all
    }

    pub fn name(&self) -> String {
        match self {
            Fault::Delay => "delay past the timeout".into(),
            Fault::Reset => "connection reset".into(),
            Fault::Truncate => "truncated body".into(),
            Fault::Status(s, None) => format!("{s}"),
            Fault::Status(s, Some(r)) => format!("{s} + Retry-After: {r}"),
            Fault::Html => "HTML instead of JSON".into(),
            Fault::WrongTypes => "JSON with wrong types".into(),
            Fault::TooLarge => "body > 4 MiB".into(),
            Fault::Redirect => "redirect to another host".into(),
        }
    }
}

/// Which requests a fault hits: a method (or any) and a path fragment.
#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Option<String>,
    pub path: String,
    pub fault: Fault,
    /// How many matching requests it hits (`None`: until cleared).
    pub times: Option<usize>,
}

#[derive(Default)]
struct Shared {
    rule: Option<Rule>,
}

pub struct FaultProxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    /// Requests a rule hit.
    hit: Arc<AtomicUsize>,
    /// Every request seen: (method, path and query).
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl FaultProxy {
    /// A proxy for `upstream` (`http://host:port`, no path).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let hit = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let upstream = upstream.trim_end_matches('/').to_string();
        let (s, h, v) = (shared.clone(), hit.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = Conn {
                    upstream: upstream.clone(),
                    client: client.clone(),
                    shared: s.clone(),
                    hit: h.clone(),
                    seen: v.clone(),
                };
                tokio::spawn(conn.serve(stream));
            }
        });
        FaultProxy {
            url,
            shared,
            hit,
            seen,
        }
    }

    /// From now on, `fault` hits every `method` request whose path holds `path`.
    pub fn fail(&self, method: Option<&str>, path: &str, fault: Fault) {
        self.set(Rule {
            method: method.map(str::to_string),
            path: path.into(),
            fault,
            times: None,
        });
    }

    /// `fault` hits only the next such request.
    pub fn fail_once(&self, method: Option<&str>, path: &str, fault: Fault) {
        self.set(Rule {
            method: method.map(str::to_string),
            path: path.into(),
            fault,
            times: Some(1),
        });
    }

    fn set(&self, rule: Rule) {
        self.hit.store(0, Ordering::SeqCst);
        self.shared.lock().unwrap().rule = Some(rule);
    }

    /// The fault clears: every request is forwarded as it is.
    pub fn clear(&self) {
        self.shared.lock().unwrap().rule = None;
    }

    /// How many requests the last rule hit.
    pub fn hits(&self) -> usize {
        self.hit.load(Ordering::SeqCst)
    }

    /// The requests seen with this method whose path holds `path`.
    pub fn seen(&self, method: &str, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m == method && p.contains(path))
            .count()
    }
}

struct Conn {
    upstream: String,
    client: reqwest::Client,
    shared: Arc<Mutex<Shared>>,
    hit: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Conn {
    async fn serve(self, mut stream: TcpStream) {
        let Some(req) = read_request(&mut stream).await else {
            return;
        };
        self.seen
            .lock()
            .unwrap()
            .push((req.method.clone(), req.target.clone()));
        let fault = {
            let mut shared = self.shared.lock().unwrap();
            match &mut shared.rule {
                Some(rule)
                    if rule.method.as_deref().is_none_or(|m| m == req.method)
                        && req.target.contains(&rule.path)
                        && rule.times != Some(0) =>
                {
                    if let Some(n) = &mut rule.times {
                        *n -= 1;
                    }
                    Some(rule.fault)
                }
                _ => None,
            }
        };
        if fault.is_some() {
            self.hit.fetch_add(1, Ordering::SeqCst);
        }
        match fault {
            None => {
                let answer = self.forward(&req).await;
                let _ = write_answer(&mut stream, &answer, None).await;
            }
            Some(Fault::Delay) => {
                let _ = self.forward(&req).await;
                // Held until the client hangs up (its timeout), never answered.
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(60), async {
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                })
                .await;
            }
            Some(Fault::Reset) => {
                #[allow(deprecated)] // a zero linger resets at once, it does not block
                let _ = stream.set_linger(Some(Duration::ZERO));
                drop(stream);
            }
            Some(Fault::Truncate) => {
                let answer = self.forward(&req).await;
                let half = answer.body.len() / 2;
                let _ = write_answer(&mut stream, &answer, Some(half)).await;
            }
            Some(Fault::Status(status, retry_after)) => {
                let mut headers = vec![("content-type".into(), "text/plain".into())];
                if let Some(r) = retry_after {
                    headers.push(("retry-after".into(), r.to_string()));
                }
                let answer = Answer {
                    status,
                    headers,
                    body: b"upstream trouble, try later".to_vec(),
                };
                let _ = write_answer(&mut stream, &answer, None).await;
            }
            Some(Fault::Html) => {
                let answer = Answer {
                    status: 200,
                    headers: vec![("content-type".into(), "text/html".into())],
                    body: b"<!doctype html><html><body><form>Sign in to the Wi-Fi</form></body></html>"
                        .to_vec(),
                };
                let _ = write_answer(&mut stream, &answer, None).await;
            }
            Some(Fault::WrongTypes) => {
                let mut answer = self.forward(&req).await;
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer.body) {
                    answer.body = serde_json::to_vec(&turn(v)).unwrap();
                }
                let _ = write_answer(&mut stream, &answer, None).await;
            }
            Some(Fault::TooLarge) => {
                let size = secinfo::backend::http::MAX_BODY + 1024;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    let n = chunk.len().min(size - sent);
                    if stream.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                    sent += n;
                }
            }
            Some(Fault::Redirect) => {
                let answer = Answer {
                    status: 302,
                    headers: vec![(
                        "location".into(),
                        format!("https://attacker.example{}", req.target),
                    )],
                    body: Vec::new(),
                };
                let _ = write_answer(&mut stream, &answer, None).await;
            }
        }
    }

    async fn forward(&self, req: &Request) -> Answer {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut out = self
            .client
            .request(method, format!("{}{}", self.upstream, req.target))
            .body(req.body.clone());
        for (k, v) in &req.headers {
            if !matches!(
                k.as_str(),
                "host" | "connection" | "content-length" | "transfer-encoding"
            ) {
                out = out.header(k, v);
            }
        }
        match out.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "connection" | "content-length" | "transfer-encoding" | "keep-alive"
                        )
                    })
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                Answer {
                    status,
                    headers,
                    body,
                }
            }
            Err(e) => Answer {
                status: 599,
                headers: Vec::new(),
                body: format!("the proxy could not reach the server: {e}").into_bytes(),
            },
        }
    }
}

/// Strings become numbers, numbers and booleans strings; arrays and objects keep their shape.
fn turn(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(_) => Value::from(12345),
        Value::Number(n) => Value::String(format!("n{n}")),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(a) => Value::Array(a.into_iter().map(turn).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, turn(v))).collect()),
        Value::Null => Value::from(0),
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Writes an answer; `cut` sends only that many body bytes (the length header says all).
async fn write_answer(
    stream: &mut TcpStream,
    a: &Answer,
    cut: Option<usize>,
) -> std::io::Result<()> {
    let reason = reqwest::StatusCode::from_u16(a.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", a.status);
    for (k, v) in &a.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        a.body.len()
    ));
    stream.write_all(head.as_bytes()).await?;
    let body = &a.body[..cut.unwrap_or(a.body.len()).min(a.body.len())];
    stream.write_all(body).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}

/// A linear front end that asks nothing and writes down what it is told; a
/// typed name is given when `names` says so.
#[derive(Default)]
pub struct Quiet {
    pub said: Vec<String>,
    pub names: bool,
}

impl secinfo::journeys::asker::Asker for Quiet {
    type Error = secinfo::backend::BackendError;
    fn say(&mut self, line: &str) -> Result<(), Self::Error> {
        self.said.push(line.to_string());
        Ok(())
    }
    fn choose(
        &mut self,
        _: &str,
        _: &[String],
        d: Option<usize>,
    ) -> Result<Option<usize>, Self::Error> {
        Ok(d)
    }
    fn code(&mut self, _: &str) -> Result<Option<secinfo::secrets::SecretString>, Self::Error> {
        Ok(None)
    }
    fn yes(&mut self, _: &str) -> Result<bool, Self::Error> {
        Ok(true)
    }
    fn typed_name(&mut self, _: &str) -> Result<bool, Self::Error> {
        Ok(self.names)
    }
}

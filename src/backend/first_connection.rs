//! One connection for a burst of first requests to a server known to speak HTTP/2.
//!
//! The home screen sends its loads together before any connection exists. Until
//! a TLS handshake has said (by ALPN) that the server speaks HTTP/2, hyper opens a
//! connection for each of them, and each carries one request: three TCP and TLS
//! handshakes where one would do. Waiting for the first handshake would fix that
//! for HTTP/2 servers and cost HTTP/1.1 servers a handshake's time, so secinfo
//! remembers which servers answered HTTP/2 (`Http2Servers`, a file in the state
//! dir). For those, this connector layer lets the first connect go alone and the
//! ones asked for meanwhile wait: they never connect, because hyper's pool hands
//! their requests the new connection. Every other server is connected to as
//! before, and learnt from; a server that stops offering HTTP/2 is forgotten.

use hyper_util::client::legacy::connect::Connection;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tower::{Layer, Service, ServiceExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a connect that HTTP/2 made unneeded stays pending before it ends
/// with an error. hyper gives its request the shared connection within
/// microseconds and then drops it (or leaves it to end in the background).
const UNNEEDED_FOR: Duration = Duration::from_secs(10);

/// The servers (origins, one per line) that answered HTTP/2 last time.
#[derive(Clone, Debug)]
pub struct Http2Servers {
    file: PathBuf,
}

impl Http2Servers {
    pub fn in_state_dir() -> Self {
        Self::at(crate::paths::state_dir().join("http2-servers"))
    }

    pub fn at(file: PathBuf) -> Self {
        Self { file }
    }

    /// Read once, when a client is made (with the config, before any network).
    pub fn knows(&self, origin: &str) -> bool {
        std::fs::read_to_string(&self.file).is_ok_and(|t| t.lines().any(|l| l == origin))
    }

    /// Add or drop `origin`, on the blocking pool: it is called from a connect.
    fn note(&self, origin: String, speaks_h2: bool) {
        let file = self.file.clone();
        let write = move || {
            let old = std::fs::read_to_string(&file).unwrap_or_default();
            let mut lines: Vec<&str> = old.lines().filter(|l| *l != origin).collect();
            if speaks_h2 {
                lines.push(&origin);
            }
            let mut text = lines.join("\n");
            text.push('\n');
            if let Some(dir) = file.parent() {
                let _ = crate::paths::ensure_private_dir(dir);
            }
            // A hint only: when it cannot be written, the next start opens more connections.
            if let Err(e) = std::fs::write(&file, text) {
                tracing::debug!(error = %e, "cannot note the server's HTTP version");
            }
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            drop(rt.spawn_blocking(write));
        }
    }
}

#[derive(Clone)]
pub struct FirstConnection {
    shared: Arc<Shared>,
}

impl FirstConnection {
    /// For the server at `origin`, as `servers` remember it.
    pub fn new(origin: String, servers: Http2Servers) -> Self {
        let known = servers.knows(&origin);
        Self {
            shared: Arc::new(Shared {
                origin,
                servers,
                known: AtomicBool::new(known),
                leader: Mutex::new(None),
            }),
        }
    }
}

struct Shared {
    origin: String,
    servers: Http2Servers,
    /// The server is known to speak HTTP/2: the first connect goes alone.
    known: AtomicBool,
    /// The connect under way, which the others wait for: it tells whether it
    /// got an HTTP/2 connection (`Some(true)`).
    leader: Mutex<Option<watch::Receiver<Option<bool>>>>,
}

impl Shared {
    fn leader(&self) -> std::sync::MutexGuard<'_, Option<watch::Receiver<Option<bool>>>> {
        // A poisoned lock only means a connect panicked; the slot is still usable.
        self.leader.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a finished connect learnt about the server.
    fn learnt(&self, speaks_h2: bool) {
        if self.known.swap(speaks_h2, Ordering::Relaxed) != speaks_h2 {
            self.servers.note(self.origin.clone(), speaks_h2);
        }
    }
}

/// Clears the leader's slot however its connect ends (done, failed or dropped),
/// so that the next connect can lead.
struct Leading {
    shared: Arc<Shared>,
    tell: watch::Sender<Option<bool>>,
}

impl Drop for Leading {
    fn drop(&mut self) {
        *self.shared.leader() = None;
        // Waiters told nothing (the connect failed or was dropped) connect themselves.
        self.tell.send_if_modified(|told| {
            let untold = told.is_none();
            if untold {
                *told = Some(false);
            }
            untold
        });
    }
}

impl<S> Layer<S> for FirstConnection {
    type Service = FirstConnectionService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        FirstConnectionService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct FirstConnectionService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, R> Service<R> for FirstConnectionService<S>
where
    S: Service<R> + Clone + Send + 'static,
    S::Response: Connection + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The inner service's readiness is awaited when the connect runs (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: R) -> Self::Future {
        let (inner, shared) = (self.inner.clone(), self.shared.clone());
        Box::pin(async move {
            let connect = |inner: S, dst: R| async move {
                let conn = inner.oneshot(dst).await.map_err(Into::into)?;
                let speaks_h2 = conn.connected().is_negotiated_h2();
                Ok::<_, BoxError>((conn, speaks_h2))
            };
            if !shared.known.load(Ordering::Relaxed) {
                let (conn, speaks_h2) = connect(inner, dst).await?;
                shared.learnt(speaks_h2);
                return Ok(conn);
            }
            let waiting = {
                let mut slot = shared.leader();
                match &*slot {
                    Some(rx) => Err(rx.clone()),
                    None => {
                        let (tell, rx) = watch::channel(None);
                        *slot = Some(rx);
                        Ok(Leading {
                            shared: shared.clone(),
                            tell,
                        })
                    }
                }
            };
            match waiting {
                Ok(leading) => {
                    let (conn, speaks_h2) = connect(inner, dst).await?;
                    shared.learnt(speaks_h2);
                    leading.tell.send_replace(Some(speaks_h2));
                    Ok(conn)
                }
                Err(mut rx) => {
                    let told = rx.wait_for(Option::is_some).await.map(|v| *v);
                    if told.is_ok_and(|v| v == Some(true)) {
                        tokio::time::sleep(UNNEEDED_FOR).await;
                        Err(
                            "not needed: its request went over the server's HTTP/2 connection"
                                .into(),
                        )
                    } else {
                        Ok(connect(inner, dst).await?.0)
                    }
                }
            }
        })
    }
}

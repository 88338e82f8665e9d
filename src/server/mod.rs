//! The reference identity server: axum over SQLite, speaking the native
//! protocol (`crate::protocol`). Every piece of state lives in the database,
//! so any number of processes over one file see the same world; handlers open
//! a connection per request on the blocking pool.
//!
//! Library API: [`Settings`], [`serve`], [`spawn`], [`admin`], [`seed_demo`],
//! [`outbox`]. `GET /openapi.json` is generated from the handlers.
//!
//! The journeys, as a client sees them:
//! - Sign-in: `POST /v1/auth/login` → `SignedIn` (a valid "Don't ask again"
//!   grant for this `client_id`, or no second factor yet: `mfa_setup_required`)
//!   or `MfaRequired`. Then `POST /v1/auth/mfa/send` (push: returns the number
//!   to match; SMS/email: writes a code to the outbox) and `POST /v1/auth/mfa`
//!   with the code, or with `code: null` to poll a push. Recovery codes are
//!   offered as method id `recovery_code`.
//! - Tokens: opaque, stored as SHA-256; refresh rotates and a reused refresh
//!   token ends the session. A session signed in through a grant has no MFA
//!   on record, so its first security-info change answers 403
//!   `step_up_required`: `POST /v1/auth/step-up`, then the same two MFA calls
//!   with the session's bearer token, then retry with the fresh tokens.
//! - Security info: changes need MFA within `mfa_max_age`; removing the last
//!   usable second factor (or the phone carrying it) answers 409
//!   `last_method` unless `?confirm=` names it exactly; each change sends a
//!   notice email to the username's address (the outbox).
//! - Adding a method: `POST /v1/me/enrollments` → poll or verify
//!   `/v1/me/enrollments/{id}[/verify]` → `done`; `DELETE` cancels. The
//!   authenticator app is saved only after its test push is approved.
//! - The phone (`crate::phone`): activation with a one-time code, then
//!   Ed25519-signed requests (single-use with a nonce); "Remove account"
//!   makes pushes fail at once with `push_unavailable` while the methods
//!   stay listed (no longer counting as usable).
//! - Guessing is limited per IP (`limits.rs`), per username typed and per
//!   account's codes (`throttle.rs`), and per sign-in attempt; TOTP secrets
//!   and recovery codes are kept under a key beside the database (`keys.rs`).
//!   RELIABILITY.md lists each protection and its test.

mod account;
mod activity;
pub mod admin;
mod app_passwords;
mod auth;
mod db;
mod device;
mod enroll;
mod error;
mod keys;
mod limits;
mod me;
mod methods;
mod mfa;
mod names;
mod openapi;
mod outbox;
mod password;
mod recovery;
mod seed;
mod sessions;
mod throttle;
mod tokens;
mod totp;

pub use error::ServerError;
pub use openapi::json as openapi_json;
pub use outbox::outbox;
pub use seed::{DEMO_PASSWORD, DEMO_USERNAME, DemoAccount, seed_demo};

use axum::Router;
use axum::routing::{delete, get, post, put};
use error::ApiResult;
use rusqlite::Connection;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Server settings. Every duration is in seconds, so tests can shorten them.
/// (Newer fields use small integer types: this struct sits inside the CLI's
/// `Command` enum, whose variants should stay close in size.)
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Access token lifetime (s).
    #[arg(long, default_value_t = 900)]
    pub access_token_ttl: u64,
    /// Refresh token lifetime (s); each refresh issues a new one.
    #[arg(long, default_value_t = 30 * 86_400)]
    pub refresh_token_ttl: u64,
    /// How long a sign-in attempt may wait for its second factor (s).
    #[arg(long, default_value_t = 300)]
    pub challenge_ttl: u64,
    /// How long a push notification waits for an answer (s).
    #[arg(long, default_value_t = 120)]
    pub push_ttl: u64,
    /// Security-info changes need a second factor within this many seconds.
    #[arg(long, default_value_t = 600)]
    pub mfa_max_age: u64,
    /// N in "Don't ask again for N days".
    #[arg(long, default_value_t = 30)]
    pub remember_days: u32,
    /// TOTP time step (s).
    #[arg(long, default_value_t = 30)]
    pub totp_step: u64,
    /// TOTP code length.
    #[arg(long, default_value_t = 6)]
    pub totp_digits: usize,
    /// Issuer shown in authenticator apps.
    #[arg(long, default_value = "secinfo demo")]
    pub totp_issuer: String,
    /// Failed attempts before a lock: wrong passwords (per username typed)
    /// and wrong second-factor codes (per account) are counted apart, and a
    /// correct password never clears the code count.
    #[arg(long, default_value_t = 5)]
    pub max_failed_attempts: u32,
    /// How long the first lock lasts (s); each further lock doubles it.
    #[arg(long, default_value_t = 60)]
    pub lockout: u64,
    /// The longest a lock can grow to by doubling (s).
    #[arg(long, default_value_t = 3600)]
    pub max_lockout: u32,
    /// Wrong codes one sign-in attempt may take before it is void.
    #[arg(long, default_value_t = 3)]
    pub max_code_guesses: u16,
    /// Guessing requests (password, code, app password, activation code) one
    /// IP address may make in a burst; 0 turns the per-IP limit off.
    #[arg(long, default_value_t = 60)]
    pub ip_burst: u16,
    /// How many of those requests an IP address earns back per minute.
    #[arg(long, default_value_t = 30)]
    pub ip_refill_per_minute: u16,
    /// Password hashes (Argon2, ~19 MiB each) computed at the same time;
    /// more requests wait their turn.
    #[arg(long, default_value_t = 2)]
    pub hashing_workers: u16,
    /// Refuse device proofs without a nonce (replayable within the clock
    /// window). Off until every authenticator app sends one; a device that
    /// has sent one is held to it either way.
    #[arg(long)]
    pub require_device_nonce: bool,
    /// How long a code sent by SMS or email stays valid (s).
    #[arg(long, default_value_t = 600)]
    pub code_ttl: u64,
    /// Minimum time between two codes sent for the same sign-in and method (s).
    #[arg(long, default_value_t = 30)]
    pub code_resend: u64,
    /// How long an authenticator activation code stays valid (s).
    #[arg(long, default_value_t = 900)]
    pub activation_ttl: u64,
    /// How long "Add sign-in method" may take before it must start over (s).
    #[arg(long, default_value_t = 600)]
    pub enrollment_ttl: u64,
    /// The URL phones use to reach this server, put into activation links.
    /// Required when listening off loopback; on loopback the default is the
    /// address listened on (never the request's Host header, which the
    /// client chooses).
    #[arg(long)]
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            access_token_ttl: 900,
            refresh_token_ttl: 30 * 86_400,
            challenge_ttl: 300,
            push_ttl: 120,
            mfa_max_age: 600,
            remember_days: 30,
            totp_step: 30,
            totp_digits: 6,
            totp_issuer: "secinfo demo".into(),
            max_failed_attempts: 5,
            lockout: 60,
            max_lockout: 3600,
            max_code_guesses: 3,
            ip_burst: 60,
            ip_refill_per_minute: 30,
            hashing_workers: 2,
            require_device_nonce: false,
            code_ttl: 600,
            code_resend: 30,
            activation_ttl: 900,
            enrollment_ttl: 600,
            public_url: None,
        }
    }
}

struct Inner {
    db: PathBuf,
    /// Connections kept open between requests: opening one (file open, schema
    /// read, pragmas) cost more than a methods list itself. See [`AppState::run`].
    idle: std::sync::Mutex<Vec<Connection>>,
    settings: Settings,
    /// Put into activation links: `--public-url`, else the loopback address listened on.
    public_url: String,
    per_ip: limits::IpLimiter,
    /// Bounds concurrent Argon2 work, so a flood of sign-ins cannot take
    /// every core and gigabytes of memory.
    hashing: Arc<tokio::sync::Semaphore>,
}

/// As many as the blocking pool has busy threads in a burst on a small
/// machine; more would only hold file handles.
const MAX_IDLE_CONNECTIONS: usize = 16;

/// How long a request waits for a hashing slot before it is told to retry.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What every handler gets: where the database is and the settings.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

impl AppState {
    pub(crate) fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.0.public_url
    }

    fn new(db: PathBuf, settings: Settings, public_url: String) -> Self {
        let per_ip = limits::IpLimiter::new(settings.ip_burst, settings.ip_refill_per_minute);
        let workers = settings.hashing_workers.max(1) as usize;
        AppState(Arc::new(Inner {
            db,
            idle: std::sync::Mutex::new(Vec::new()),
            settings,
            public_url,
            per_ip,
            hashing: Arc::new(tokio::sync::Semaphore::new(workers)),
        }))
    }

    /// Spend one guessing token of this address (429 when it has none left).
    /// Known and unknown usernames cost the same, so the answer says nothing
    /// about which accounts exist.
    pub(crate) fn limit_ip(&self, ip: std::net::IpAddr) -> ApiResult<()> {
        self.0.per_ip.take(ip)
    }

    /// Like [`AppState::run`], for work that hashes a password: at most
    /// `hashing_workers` run at once.
    pub(crate) async fn run_hashing<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Settings) -> ApiResult<T> + Send + 'static,
    {
        let permit = tokio::time::timeout(HASHING_WAIT, self.0.hashing.clone().acquire_owned())
            .await
            .map_err(|_| error::ApiError::throttled(1))?
            .map_err(error::ApiError::internal)?;
        // The permit moves into the blocking task: a client that hangs up
        // does not free the slot while its hash is still being computed.
        self.run(move |conn, s| {
            let _permit = permit;
            f(conn, s)
        })
        .await
    }

    /// Run `f` on the blocking pool with a connection: an idle one if there
    /// is one, else a new one. It goes back only outside a transaction, so a
    /// request that failed half-way leaves nothing open for the next.
    pub(crate) async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Settings) -> ApiResult<T> + Send + 'static,
    {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let idle = inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut conn = match idle {
                Some(conn) => conn,
                None => db::open(&inner.db)?,
            };
            let out = f(&mut conn, &inner.settings);
            if conn.is_autocommit() {
                let mut idle = inner.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < MAX_IDLE_CONNECTIONS {
                    idle.push(conn);
                }
            }
            out
        })
        .await
        .map_err(error::ApiError::internal)?
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/meta", get(auth::meta))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/mfa/send", post(auth::mfa_send))
        .route("/v1/auth/mfa", post(auth::mfa_verify))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/step-up", post(auth::step_up))
        .route("/v1/me", get(me::me))
        .route("/v1/me/methods", get(me::methods))
        .route(
            "/v1/me/methods/{id}",
            delete(me::delete_method).patch(account::rename_method),
        )
        .route("/v1/me/default-method", put(me::set_default))
        .route("/v1/me/devices", get(me::devices))
        .route(
            "/v1/me/devices/{id}",
            delete(me::delete_device).patch(account::rename_device),
        )
        .route("/v1/me/password", post(account::change_password))
        .route(
            "/v1/me/app-passwords",
            get(app_passwords::list).post(app_passwords::create),
        )
        .route("/v1/me/app-passwords/{id}", delete(app_passwords::delete))
        .route(
            "/v1/me/recovery-codes",
            get(recovery::status)
                .post(recovery::regenerate)
                .delete(recovery::remove),
        )
        .route("/v1/legacy/ping", get(app_passwords::legacy_ping))
        .route("/v1/me/activity", get(activity::activity))
        .route("/v1/me/sessions", get(sessions::sessions))
        .route("/v1/me/sessions/{id}", delete(sessions::revoke_session))
        .route("/v1/me/trusted-devices", get(sessions::trusted_devices))
        .route(
            "/v1/me/trusted-devices/{id}",
            delete(sessions::forget_trusted_device),
        )
        .route(
            "/v1/me/signout-everywhere",
            post(sessions::signout_everywhere),
        )
        .route("/v1/me/enrollments", post(enroll::begin))
        .route(
            "/v1/me/enrollments/{id}",
            get(enroll::status).delete(enroll::cancel),
        )
        .route("/v1/me/enrollments/{id}/verify", post(enroll::verify))
        .route("/v1/device/activate", post(device::activate))
        .route("/v1/device/{device_id}/pending", post(device::pending))
        .route(
            "/v1/device/{device_id}/pushes/{push_id}/approve",
            post(device::approve),
        )
        .route(
            "/v1/device/{device_id}/pushes/{push_id}/deny",
            post(device::deny),
        )
        .route(
            "/v1/device/{device_id}/unregister",
            post(device::unregister),
        )
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { error::ApiError::not_found("this endpoint") })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                crate::protocol::codes::BAD_REQUEST,
                "this endpoint does not take that HTTP method",
            )
        })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One line per request: method, path (never the query, which may carry a
/// confirmation name), status and time. Bodies and headers are never logged.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::debug!(%method, path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "served");
    resp
}

/// Serve on `listener` until the task is dropped. Migrates the database first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: &Path,
    settings: Settings,
) -> Result<(), ServerError> {
    serve_until(listener, db, settings, None, std::future::pending()).await
}

/// A certificate chain and its private key, PEM files, for serving HTTPS.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// `serve`, speaking TLS (rustls) on `listener`: the reference server can be
/// deployed without a proxy in front of it.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    db: &Path,
    settings: Settings,
    tls: Tls,
) -> Result<(), ServerError> {
    serve_until(listener, db, settings, Some(tls), std::future::pending()).await
}

async fn serve_until(
    listener: tokio::net::TcpListener,
    db: &Path,
    settings: Settings,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = public_url(&settings, listener.local_addr()?, scheme)?;
    let path = db.to_path_buf();
    let migrate_path = path.clone();
    tokio::task::spawn_blocking(move || db::migrate(&migrate_path))
        .await
        .map_err(|e| ServerError::Task(e.to_string()))??;
    let janitor = tokio::spawn(purge_regularly(path.clone()));
    let app = router(AppState::new(path, settings, public_url));
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "reference server listening");
    }
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(tls) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| {
                    ServerError::Invalid(format!(
                        "cannot use the certificate {} with the key {}: {e}",
                        tls.cert.display(),
                        tls.key.display()
                    ))
                })?;
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stop.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, config)
                .handle(handle)
                .serve(service)
                .await
        }
    };
    janitor.abort();
    served?;
    Ok(())
}

/// The URL for activation links. Off loopback it must be given: a phone
/// that follows a link built from a request's Host header (or
/// X-Forwarded-Proto) can be sent to a server the attacker runs.
fn public_url(settings: &Settings, addr: SocketAddr, scheme: &str) -> Result<String, ServerError> {
    match &settings.public_url {
        Some(raw) => {
            let url = url::Url::parse(raw.trim()).map_err(|e| {
                ServerError::Invalid(format!("--public-url {raw} is not a URL: {e}"))
            })?;
            if !matches!(url.scheme(), "http" | "https")
                || !url.username().is_empty()
                || url.password().is_some()
                || url.host().is_none()
            {
                return Err(ServerError::Invalid(format!(
                    "--public-url must be an http(s) URL with a host and no user name, not {raw}"
                )));
            }
            Ok(url.as_str().trim_end_matches('/').to_string())
        }
        None if addr.ip().is_loopback() => Ok(format!("{scheme}://{addr}")),
        None => Err(ServerError::Invalid(format!(
            "listening on {addr}, which is not loopback: pass --public-url with the address \
             phones reach this server at (e.g. https://id.example.com)"
        ))),
    }
}

/// Purge dead rows at start-up and then every few minutes.
async fn purge_regularly(db: PathBuf) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let path = db.clone();
        let result =
            tokio::task::spawn_blocking(move || db::open(&path).and_then(|c| db::purge(&c))).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "purging old rows failed"),
            Err(e) => tracing::warn!(error = %e, "purge task failed"),
        }
    }
}

/// A server running in this process on a loopback port. Stops on drop.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ServerError>>>,
}

impl RunningServer {
    /// Stop accepting, finish open requests, and wait for the server to end.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| ServerError::Task(e.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Start a server on 127.0.0.1 with an ephemeral port, in a tokio task.
/// The database is migrated before this returns.
pub async fn spawn(db: &Path, settings: Settings) -> Result<RunningServer, ServerError> {
    let path = db.to_path_buf();
    let migrate_path = path.clone();
    tokio::task::spawn_blocking(move || db::migrate(&migrate_path))
        .await
        .map_err(|e| ServerError::Task(e.to_string()))??;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve_until(listener, &path, settings, None, async {
            let _ = stopped.await;
        })
        .await
    });
    Ok(RunningServer {
        addr,
        url: format!("http://{addr}"),
        stop: Some(stop),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_configured_hashes_run_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            hashing_workers: 2,
            require_device_nonce: false,
            ..Settings::default()
        };
        let state = AppState::new(dir.path().join("t.db"), settings, String::new());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            state.run_hashing(move |_, _| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(30));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        });
        for done in futures::future::join_all(jobs).await {
            assert!(done.is_ok());
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}

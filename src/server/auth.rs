//! `/v1/meta` and `/v1/auth/...`: password, second factor, refresh, logout, step-up.

use super::AppState;
use super::activity::{self, Source};
use super::db::{hash, now};
use super::error::{ApiError, ApiResult, JsonBody};
use super::methods::{self, PUSH};
use super::mfa::{self, Checked, Origin};
use super::tokens::{self, Bearer, Caller, NewSession};
use super::{names, password, throttle};
use crate::protocol::*;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use rusqlite::{OptionalExtension, params};
use std::net::SocketAddr;

#[utoipa::path(get, path = "/v1/meta", tag = "meta", responses((status = 200, body = Meta)))]
pub async fn meta(State(state): State<AppState>) -> Json<Meta> {
    let s = state.settings();
    Json(Meta {
        name: "secinfo reference server".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        api: API_VERSION.into(),
        remember_days: s.remember_days,
        mfa_max_age_secs: s.mfa_max_age,
        enrollable: [
            PUSH,
            methods::TOTP,
            methods::PHONE,
            methods::ALT_PHONE,
            methods::EMAIL,
        ]
        .map(String::from)
        .to_vec(),
    })
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        codes::INVALID_CREDENTIALS,
        "wrong username or password",
    )
}

/// Password first. A valid "Don't ask again" grant for this client, or an
/// account without any second factor, signs in at once; else a challenge.
///
/// The address spends a token and, before the password is checked, the
/// typed username reserves an attempt: the same whether the account exists or not.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = AuthResult), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Json<AuthResult>> {
    state.limit_ip(addr.ip())?;
    let client_type = mfa::client_type(&headers);
    let client_name = names::clean(&req.client_name, "Unknown client");
    let ip = addr.ip().to_string();
    let key = throttle::password_key(&req.username);
    // A locked name is refused at once instead of queueing for a hashing slot.
    let check_key = key.clone();
    state
        .run(move |conn, _| throttle::check(conn, &check_key))
        .await?;
    state
        .run_hashing(move |conn, s| {
            // Reserved inside the slot, so the attempts in flight are the few
            // being hashed, and parallel guesses still cannot pass the limit.
            throttle::reserve(conn, s, &key)?;
            // The epoch is read with the hash: an administrator's reset that
            // lands while this password is being checked ends what it creates.
            let user: Option<(String, String, i64)> = conn
                .query_row("SELECT id, password_hash, epoch FROM users WHERE username = ?1", [&req.username], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((user_id, phc, epoch)) = user else {
                password::burn(&req.password);
                throttle::fail(conn, s, &key)?;
                return Err(invalid_credentials());
            };
            if !password::verify(&req.password, &phc) {
                let locked = throttle::fail(conn, s, &key)?;
                activity::failed(conn, &user_id, Source::client(&client_name, &ip), "wrong password", locked)?;
                return Err(invalid_credentials());
            }
            throttle::succeed(conn, &key)?;
            let session = |mfa_at, factor| {
                tokens::create_session(
                    conn,
                    NewSession { user_id: &user_id, client_id: &req.client_id, client_name: &client_name, ip: &ip, mfa_at, epoch, factor },
                )
            };
            if let Some(grant) = &req.remembered_grant {
                let remembered: Option<String> = conn
                    .query_row(
                        "SELECT id FROM remembered WHERE grant_hash = ?1 AND user_id = ?2 AND client_id = ?3 AND expires_at > ?4",
                        params![hash(grant), user_id, req.client_id, now()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if remembered.is_some() {
                    // Trusted client: no second factor now, but none on record
                    // either, so security-info changes still ask for a step-up.
                    let sid = session(None, "password and a remembered device (\"Don't ask again\")")?;
                    return Ok(AuthResult::SignedIn(tokens::issue(conn, s, &sid)?));
                }
            }
            let usable = methods::usable(conn, &user_id)?;
            if usable.is_empty() {
                let sid = session(None, "password only (no second factor set up)")?;
                let mut t = tokens::issue(conn, s, &sid)?;
                t.mfa_setup_required = true;
                return Ok(AuthResult::SignedIn(t));
            }
            // Codes are locked after too many wrong ones: the right password
            // does not open a new round of guessing.
            throttle::check(conn, &throttle::mfa_key(&user_id))?;
            let origin = Origin {
                client_id: &req.client_id, client_name: &client_name, ip: &ip, session_id: None, epoch, client_type,
            };
            mfa::open_challenge(conn, s, &user_id, &usable, origin)
        })
        .await
        .map(Json)
}

/// Start a factor: a push (the number to match is returned only here) or a code by SMS/email.
#[utoipa::path(post, path = "/v1/auth/mfa/send", tag = "auth", request_body = MfaSendRequest, responses(
    (status = 200, body = MfaSent), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 429, body = ErrorBody)), security((), ("bearer" = [])))]
pub async fn mfa_send(
    State(state): State<AppState>,
    bearer: Bearer,
    JsonBody(req): JsonBody<MfaSendRequest>,
) -> ApiResult<Json<MfaSent>> {
    state
        .run(move |conn, s| {
            // A sign-in challenge ignores a stale token; a step-up needs a live one.
            let caller = bearer.optional(conn).ok().flatten();
            let (ch, m) = mfa::load(conn, &req.challenge_id, &req.method_id, caller.as_ref())?;
            mfa::ensure_guesses_left(s, &ch)?;
            mfa::send(conn, s, &ch, &m)
        })
        .await
        .map(Json)
}

/// Answer the challenge with a code, or poll a push with `code: null`.
/// A code reserves an attempt on the account's second-factor counter and
/// one of the challenge's guesses before it is checked.
#[utoipa::path(post, path = "/v1/auth/mfa", tag = "auth", request_body = MfaVerifyRequest, responses(
    (status = 200, body = AuthResult), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn mfa_verify(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    bearer: Bearer,
    JsonBody(req): JsonBody<MfaVerifyRequest>,
) -> ApiResult<Json<AuthResult>> {
    if req.code.is_some() {
        state.limit_ip(addr.ip())?;
    }
    state
        .run(move |conn, s| {
            let caller = bearer.optional(conn).ok().flatten();
            let (ch, m) = mfa::load(conn, &req.challenge_id, &req.method_id, caller.as_ref())?;
            let key = throttle::mfa_key(&ch.user_id);
            if m.kind == PUSH {
                mfa::ensure_guesses_left(s, &ch)?;
                return match mfa::check(conn, s, &ch, &m, None)? {
                    Checked::Ok => mfa::finish(conn, s, &ch, &m, req.remember),
                    Checked::Pending => Ok(AuthResult::Pending),
                    Checked::WrongCode(e) | Checked::Refused(e) => {
                        let what = format!("not approved on {}", activity::factor(&m));
                        activity::failed(
                            conn,
                            &ch.user_id,
                            Source::client(&ch.client_name, &ch.ip),
                            &what,
                            None,
                        )?;
                        Err(e)
                    }
                };
            }
            // The account's lock first (429), then this attempt's own cap.
            throttle::reserve(conn, s, &key)?;
            if let Err(e) = mfa::take_guess(conn, s, &ch) {
                throttle::release(conn, &key)?;
                return Err(e);
            }
            match mfa::check(conn, s, &ch, &m, req.code.as_deref()) {
                Ok(Checked::Ok) => mfa::finish(conn, s, &ch, &m, req.remember),
                Ok(Checked::Pending) => Ok(AuthResult::Pending),
                Ok(Checked::WrongCode(e)) => {
                    let locked = throttle::fail(conn, s, &key)?;
                    if let Some(secs) = locked {
                        mfa::warn_locked(conn, &ch, secs)?;
                    }
                    let what = format!("wrong code for {}", activity::factor(&m));
                    activity::failed(
                        conn,
                        &ch.user_id,
                        Source::client(&ch.client_name, &ch.ip),
                        &what,
                        locked,
                    )?;
                    Err(e)
                }
                Ok(Checked::Refused(e)) | Err(e) => {
                    throttle::release(conn, &key)?;
                    Err(e)
                }
            }
        })
        .await
        .map(Json)
}

/// Rotate: each refresh token works once. Presenting a used one again means
/// it leaked, so the whole session ends.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = AuthResult), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> ApiResult<Json<AuthResult>> {
    state
        .run(move |conn, s| {
            let h = hash(&req.refresh_token);
            let found: Option<(String, i64, bool, String, bool)> = conn
                .query_row(
                    "SELECT r.session_id, r.expires_at, r.used, s.client_id, s.revoked OR s.epoch != u.epoch
                     FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id
                     WHERE r.hash = ?1",
                    [&h],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?, r.get::<_, i64>(4)? != 0)),
                )
                .optional()?;
            let Some((sid, expires_at, used, client_id, revoked)) = found else {
                return Err(ApiError::unauthorized());
            };
            let reused = || {
                tracing::warn!(session = %sid, "refresh token reused; ending the session");
                tokens::revoke_session(conn, &sid)?;
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::REFRESH_REUSED,
                    "this sign-in was used from somewhere else, so it was ended for safety; sign in again",
                ))
            };
            if used {
                return reused();
            }
            if revoked || expires_at <= now() || client_id != req.client_id {
                return Err(ApiError::unauthorized());
            }
            if conn.execute("UPDATE refresh_tokens SET used = 1 WHERE hash = ?1 AND used = 0", [&h])? == 0 {
                return reused();
            }
            Ok(AuthResult::SignedIn(tokens::issue(conn, s, &sid)?))
        })
        .await
        .map(Json)
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", responses(
    (status = 204), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    Caller(bearer): Caller,
) -> ApiResult<StatusCode> {
    state
        .run(move |conn, _| {
            let me = bearer.require(conn)?;
            let by = activity::By::Session(&me.session_id);
            activity::logged(
                conn,
                &me.user_id,
                by,
                crate::domain::ActivityKind::Sessions,
                "signed out",
            )?;
            tokens::revoke_session(conn, &me.session_id)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Ask this session for a fresh second factor; answer it with `/v1/auth/mfa/send`
/// and `/v1/auth/mfa` carrying the same bearer token.
#[utoipa::path(post, path = "/v1/auth/step-up", tag = "auth", responses(
    (status = 200, body = AuthResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn step_up(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Caller(bearer): Caller,
) -> ApiResult<Json<AuthResult>> {
    let ip = addr.ip().to_string();
    let client_type = mfa::client_type(&headers);
    state
        .run(move |conn, s| {
            let me = bearer.require(conn)?;
            let usable = methods::usable(conn, &me.user_id)?;
            if usable.is_empty() {
                return Err(ApiError::bad_request(
                    "this account has no second factor to confirm with; add one first",
                ));
            }
            let client_name: String = conn.query_row(
                "SELECT client_name FROM sessions WHERE id = ?1",
                [&me.session_id],
                |r| r.get(0),
            )?;
            let origin = Origin {
                client_id: &me.client_id,
                client_name: &client_name,
                ip: &ip,
                session_id: Some(&me.session_id),
                epoch: tokens::epoch(conn, &me.user_id)?,
                client_type,
            };
            mfa::open_challenge(conn, s, &me.user_id, &usable, origin)
        })
        .await
        .map(Json)
}

//! The second-factor half of sign-in and step-up: challenges, sending a push
//! or a code, checking the answer, and finishing with tokens.

use super::Settings;
use super::db::{hash, new_id, new_secret, now};
use super::error::{ApiError, ApiResult};
use super::methods::{self, MethodRow, PUSH, TOTP};
use super::tokens::{self, Authed, NewSession};
use super::{activity, outbox, recovery, throttle, totp};
use crate::domain::ActivityKind;
use crate::protocol::{AuthResult, MfaChallenge, MfaSent, codes};
use axum::http::StatusCode;
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone)]
pub struct ChallengeRow {
    pub id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub client_id: String,
    pub client_name: String,
    pub ip: String,
    /// Wrong codes given so far.
    pub guesses: u32,
    pub epoch: i64,
}

pub struct Origin<'a> {
    pub client_id: &'a str,
    pub client_name: &'a str,
    pub ip: &'a str,
    /// A step-up refreshes this session instead of creating one.
    pub session_id: Option<&'a str>,
    /// The account's epoch when the password (or the session) was checked.
    pub epoch: i64,
    /// From [`client_type`]: what the phone is told about who asks.
    pub client_type: &'static str,
}

/// Shown on the phone for a sign-in made by the enrolling session's test push.
pub const ENROLLING: &str = "Security info: adding this phone";

/// What the phone may say about who is signing in. The client's own name
/// is free text an attacker chooses ("enter 42 to keep your account"), so
/// the phone is shown only this label, picked from a fixed list by the
/// User-Agent, beside the IP address and time the server saw.
pub fn client_type(headers: &axum::http::HeaderMap) -> &'static str {
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if agent.starts_with("secinfo/") {
        "secinfo terminal app"
    } else if agent.starts_with("Mozilla/") {
        "Web browser"
    } else {
        "Unknown app"
    }
}

/// Open a challenge over the user's usable methods.
pub fn open_challenge(
    conn: &Connection,
    settings: &Settings,
    user_id: &str,
    usable: &[MethodRow],
    origin: Origin<'_>,
) -> ApiResult<AuthResult> {
    let id = new_id("ch_");
    let t = now();
    conn.execute(
        "INSERT INTO challenges (id, user_id, session_id, client_id, client_name, ip, created_at, expires_at, epoch, client_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![id, user_id, origin.session_id, origin.client_id, origin.client_name, origin.ip, t,
            t + settings.challenge_ttl as i64, origin.epoch, origin.client_type],
    )?;
    let default = methods::default_id(conn, user_id)?.filter(|d| usable.iter().any(|m| &m.id == d));
    let mut options: Vec<_> = usable.iter().map(MethodRow::option).collect();
    options.extend(recovery::option(conn, user_id)?);
    Ok(AuthResult::MfaRequired(MfaChallenge {
        challenge_id: id,
        methods: options,
        default_method_id: default,
        expires_in: settings.challenge_ttl,
        remember_days: settings.remember_days,
    }))
}

/// A live challenge and the method being answered. Step-up challenges only
/// answer to a bearer token of their own session.
pub fn load(
    conn: &Connection,
    challenge_id: &str,
    method_id: &str,
    caller: Option<&Authed>,
) -> ApiResult<(ChallengeRow, MethodRow)> {
    let found = conn
        .query_row(
            "SELECT c.id, c.user_id, c.session_id, c.client_id, c.client_name, c.ip, c.expires_at,
                    c.done OR c.epoch != u.epoch, c.guesses, c.epoch
             FROM challenges c JOIN users u ON u.id = c.user_id WHERE c.id = ?1",
            [challenge_id],
            |r| {
                Ok((
                    ChallengeRow {
                        id: r.get(0)?,
                        user_id: r.get(1)?,
                        session_id: r.get(2)?,
                        client_id: r.get(3)?,
                        client_name: r.get(4)?,
                        ip: r.get(5)?,
                        guesses: r.get(8)?,
                        epoch: r.get(9)?,
                    },
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)? != 0,
                ))
            },
        )
        .optional()?;
    let Some((ch, expires_at, done)) = found else {
        return Err(ApiError::not_found("this sign-in attempt"));
    };
    if done {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "this sign-in attempt is already complete; sign in again",
        ));
    }
    if expires_at <= now() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "this sign-in attempt has expired before the second factor was given; sign in again",
        ));
    }
    if let Some(sid) = &ch.session_id
        && caller.map(|a| &a.session_id) != Some(sid)
    {
        return Err(ApiError::unauthorized());
    }
    if method_id == recovery::METHOD_ID {
        return Ok((ch, recovery::pseudo_method()));
    }
    let method = methods::get(conn, &ch.user_id, method_id)?
        .filter(MethodRow::usable)
        .ok_or_else(|| {
            ApiError::bad_request("that method cannot be used to sign in to this account")
        })?;
    Ok((ch, method))
}

fn too_many_guesses() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CHALLENGE_EXPIRED,
        "too many wrong codes were entered for this sign-in attempt, so it was stopped; sign in again",
    )
}

/// A challenge that took too many wrong codes answers nothing more, not
/// even a push (which could otherwise be approved by a tired user).
pub fn ensure_guesses_left(settings: &Settings, ch: &ChallengeRow) -> ApiResult<()> {
    if ch.guesses >= u32::from(settings.max_code_guesses.max(1)) {
        return Err(too_many_guesses());
    }
    Ok(())
}

/// Count one code against the challenge before checking it (atomically, so
/// parallel guesses cannot exceed the cap); past the cap the challenge is void.
pub fn take_guess(conn: &Connection, settings: &Settings, ch: &ChallengeRow) -> ApiResult<()> {
    let taken = conn.execute(
        "UPDATE challenges SET guesses = guesses + 1 WHERE id = ?1 AND guesses < ?2",
        params![ch.id, settings.max_code_guesses.max(1)],
    )?;
    if taken == 0 {
        return Err(too_many_guesses());
    }
    Ok(())
}

/// Codes for this account were just locked: tell the holder, who may be
/// the only one to know the guesses were not theirs.
pub fn warn_locked(conn: &Connection, ch: &ChallengeRow, secs: u64) -> ApiResult<()> {
    outbox::alert(
        conn,
        &ch.user_id,
        &format!(
            "several wrong verification codes were entered after your password, from {}. \
             Signing in with a code is paused for {} minute(s). If this wasn't you, someone knows your \
             password: change it and sign out everywhere",
            if ch.ip.is_empty() {
                "an unknown address"
            } else {
                &ch.ip
            },
            secs.div_ceil(60)
        ),
    )
}

/// Send a push (returns the number to match) or a code.
pub fn send(
    conn: &Connection,
    settings: &Settings,
    ch: &ChallengeRow,
    m: &MethodRow,
) -> ApiResult<MfaSent> {
    let t = now();
    if m.kind == PUSH {
        let device = m.device_id.as_deref().ok_or_else(|| push_unavailable(m))?;
        if m.device_unregistered {
            return Err(push_unavailable(m));
        }
        conn.execute(
            "UPDATE pushes SET state = 'cancelled' WHERE challenge_id = ?1 AND state = 'pending'",
            [&ch.id],
        )?;
        let number: u32 = rand::thread_rng().gen_range(10..=99);
        conn.execute(
            "INSERT INTO pushes (id, challenge_id, method_id, device_id, number, state, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
            params![new_id("push_"), ch.id, m.id, device, number, t, t + settings.push_ttl as i64],
        )?;
        return Ok(MfaSent {
            number: Some(number),
            sent_to: None,
            expires_in: Some(settings.push_ttl),
        });
    }
    let Some(channel) = methods::code_channel(&m.kind) else {
        // TOTP: the code is already on the user's device.
        return Ok(MfaSent {
            number: None,
            sent_to: None,
            expires_in: None,
        });
    };
    let last: Option<i64> = conn
        .query_row(
            "SELECT MAX(sent_at) FROM sent_codes WHERE challenge_id = ?1 AND method_id = ?2",
            params![ch.id, m.id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if let Some(last) = last {
        let wait = last + settings.code_resend as i64 - t;
        if wait > 0 {
            return Err(ApiError::throttled(wait as u64));
        }
    }
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    conn.execute(
        "INSERT INTO sent_codes (challenge_id, method_id, code_hash, sent_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ch.id, m.id, hash(&format!("{}:{code}", ch.id)), t, t + settings.code_ttl as i64],
    )?;
    let body = format!(
        "Your {} verification code is {code}. It expires in {} minutes.",
        settings.totp_issuer,
        settings.code_ttl.div_ceil(60)
    );
    outbox::write(conn, channel, &m.label, &body)?;
    Ok(MfaSent {
        number: None,
        sent_to: Some(m.detail()),
        expires_in: None,
    })
}

fn push_unavailable(m: &MethodRow) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::PUSH_UNAVAILABLE,
        format!(
            "{} no longer has this account in its authenticator app, so it cannot approve sign-ins; \
             use another method, or delete it on Security info and add the app again",
            m.detail()
        ),
    )
}

/// What checking an answer found. Failures that count towards the throttle
/// are told apart so the caller can record them.
pub enum Checked {
    Ok,
    Pending,
    WrongCode(ApiError),
    Refused(ApiError),
}

pub fn check(
    conn: &Connection,
    settings: &Settings,
    ch: &ChallengeRow,
    m: &MethodRow,
    code: Option<&str>,
) -> ApiResult<Checked> {
    if m.kind == PUSH {
        return check_push(conn, m, ch);
    }
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(ApiError::bad_request("enter the code"));
    };
    let wrong = || {
        Checked::WrongCode(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_CODE,
            "that code is not right; check it and try again",
        ))
    };
    if m.kind == recovery::KIND {
        return Ok(if recovery::spend(conn, &ch.user_id, code)? {
            Checked::Ok
        } else {
            wrong()
        });
    }
    if m.kind == TOTP {
        let Some(secret) = &m.secret else {
            return Ok(Checked::Refused(ApiError::internal(
                "TOTP method without a secret",
            )));
        };
        let secret = super::keys::for_conn(conn)?.open(secret)?;
        let Some(step) = totp::matching_step(&secret, code, settings) else {
            return Ok(wrong());
        };
        // Atomic: of two requests racing with one code, only one can move the step on.
        let moved = conn.execute(
            "UPDATE methods SET last_totp_step = ?2 WHERE id = ?1 AND last_totp_step < ?2",
            params![m.id, step],
        )?;
        if moved == 0 {
            return Ok(Checked::Refused(ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::CODE_REUSED,
                "that code was already used; wait for the next code in your app",
            )));
        }
        return Ok(Checked::Ok);
    }
    let sent: Option<(i64, i64)> = conn
        .query_row(
            "SELECT id, expires_at FROM sent_codes WHERE challenge_id = ?1 AND method_id = ?2 ORDER BY id DESC LIMIT 1",
            params![ch.id, m.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((_, expires_at)) = sent else {
        return Err(ApiError::bad_request(
            "no code was sent for this method yet; send one first",
        ));
    };
    if expires_at <= now() {
        return Ok(Checked::Refused(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "that code has expired; send a new one",
        )));
    }
    let used = conn.execute(
        "DELETE FROM sent_codes WHERE challenge_id = ?1 AND method_id = ?2 AND code_hash = ?3 AND expires_at > ?4",
        params![ch.id, m.id, hash(&format!("{}:{code}", ch.id)), now()],
    )?;
    Ok(if used > 0 { Checked::Ok } else { wrong() })
}

fn check_push(conn: &Connection, m: &MethodRow, ch: &ChallengeRow) -> ApiResult<Checked> {
    let push: Option<(String, i64)> = conn
        .query_row(
            "SELECT state, expires_at FROM pushes WHERE challenge_id = ?1 AND method_id = ?2
             ORDER BY created_at DESC, rowid DESC LIMIT 1",
            params![ch.id, m.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((state, expires_at)) = push else {
        return Err(ApiError::bad_request(
            "no notification was sent for this method yet; send one first",
        ));
    };
    let refuse = |code, msg: &str| {
        Ok(Checked::Refused(ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            msg,
        )))
    };
    match state.as_str() {
        "approved" => Ok(Checked::Ok),
        _ if m.device_unregistered => Ok(Checked::Refused(push_unavailable(m))),
        "pending" if expires_at > now() => Ok(Checked::Pending),
        "pending" | "cancelled" => refuse(
            codes::CHALLENGE_EXPIRED,
            "the notification expired without an answer; send a new one",
        ),
        "denied" => refuse(codes::PUSH_DENIED, "the sign-in was denied on the phone"),
        "wrong_number" => refuse(
            codes::WRONG_NUMBER,
            "the number entered on the phone did not match; send a new notification",
        ),
        other => Err(ApiError::internal(format!("unknown push state {other}"))),
    }
}

/// The factor is proven: complete the challenge and hand out tokens.
pub fn finish(
    conn: &Connection,
    settings: &Settings,
    ch: &ChallengeRow,
    m: &MethodRow,
    remember: bool,
) -> ApiResult<AuthResult> {
    let t = now();
    let won = conn.execute(
        "UPDATE challenges SET done = 1 WHERE id = ?1 AND done = 0",
        [&ch.id],
    )?;
    if won == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::CHALLENGE_EXPIRED,
            "this sign-in attempt is already complete; sign in again",
        ));
    }
    throttle::succeed(conn, &throttle::mfa_key(&ch.user_id))?;
    methods::touch(conn, m)?;
    let session_id = match &ch.session_id {
        Some(sid) => {
            // Step-up: same session, fresh MFA time, fresh tokens; the old
            // refresh tokens are withdrawn so only the new pair continues.
            conn.execute(
                "UPDATE sessions SET mfa_at = ?2, last_active_at = ?2 WHERE id = ?1",
                params![sid, t],
            )?;
            conn.execute("DELETE FROM refresh_tokens WHERE session_id = ?1", [sid])?;
            let from = activity::Source::client(&ch.client_name, &ch.ip);
            let what = "confirmed it was you before a change";
            activity::record(
                conn,
                &ch.user_id,
                ActivityKind::StepUp,
                what,
                from,
                Some(&activity::factor(m)),
            )?;
            sid.clone()
        }
        None => tokens::create_session(
            conn,
            NewSession {
                user_id: &ch.user_id,
                client_id: &ch.client_id,
                client_name: &ch.client_name,
                ip: &ch.ip,
                mfa_at: Some(t),
                epoch: ch.epoch,
                factor: &activity::factor(m),
            },
        )?,
    };
    let mut issued = tokens::issue(conn, settings, &session_id)?;
    if remember && ch.session_id.is_none() {
        let grant = new_secret("srg_");
        conn.execute(
            "DELETE FROM remembered WHERE user_id = ?1 AND client_id = ?2",
            params![ch.user_id, ch.client_id],
        )?;
        conn.execute(
            "INSERT INTO remembered (id, user_id, client_id, client_name, grant_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![new_id("rd_"), ch.user_id, ch.client_id, ch.client_name, hash(&grant), t,
                t + i64::from(settings.remember_days) * 86_400],
        )?;
        issued.remembered_grant = Some(grant);
    }
    Ok(AuthResult::SignedIn(issued))
}

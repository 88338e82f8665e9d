//! The simulated authenticator phone: the app side of the native protocol's
//! `/v1/device/...` endpoints. At activation it makes its own Ed25519 key
//! pair, registers the public half, and signs every later request with the
//! private half, which never leaves its directory.
//!
//! Storage: one `account-<device_id>.json` file (mode 0600) per account in
//! the phone's directory (mode 0700), holding the key, the server URL and
//! the TOTP URI. The server URL is stored per account; a demo whose port
//! changes per run calls [`Phone::set_server_url`] at start-up (or a caller
//! uses [`Phone::with_server_url`] for a one-off override).
//!
//! Those files are not encrypted, so the phone works only with a server on
//! this computer (loopback: the demo, `secinfo serve` for tests): it refuses
//! to activate, store or answer for any other (`PhoneError::NotLoopback`).
//! A real account belongs on a real phone.

use crate::backend::BackendError;
use crate::backend::http::{DEFAULT_TIMEOUT, HttpClient};
use crate::protocol::{ActivateRequest, ActivateResponse, DeviceProof, PendingPush, PushAnswer};
use crate::secrets::SecretString;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use reqwest::Method;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone's data in {path} cannot be used: {reason}")]
    Storage { path: String, reason: String },
    #[error("this is not an activation link (expected secinfo://activate?code=...&url=...)")]
    BadPayload,
    #[error("no account {0} on this phone")]
    NoAccount(String),
    #[error("this phone has no accounts yet; activate one first")]
    NoAccounts,
    #[error("no sign-in is waiting for approval on this phone")]
    NothingPending,
    /// Several requests match: the phone never guesses which one is meant.
    #[error("{} sign-ins are waiting; say which one (its id from `secinfo phone pending`)", .0.len())]
    SeveralPending(Vec<PendingPush>),
    #[error("no sign-in {0} is waiting on this phone")]
    NoSuchPush(String),
    /// The phone keeps its key and codes in plain files: it talks only to this computer.
    #[error(
        "the simulated phone keeps its key and codes in plain files, so it only works with a server \
         on this computer (127.0.0.1, ::1 or localhost); {0} is not"
    )]
    NotLoopback(String),
    #[error("{0}")]
    Server(#[from] BackendError),
}

pub type Result<T> = std::result::Result<T, PhoneError>;

mod store;
use store::{Account, storage};

/// What the app shows in its account list (no key material).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountInfo {
    pub username: String,
    pub device_id: String,
    pub name: String,
    pub server_url: String,
}

/// An account to store, as produced by activation (or by the demo seed).
pub struct NewAccount {
    pub device_id: String,
    pub username: String,
    pub name: String,
    pub server_url: String,
    pub key: SigningKey,
    pub totp_uri: Option<String>,
}

/// Which waiting request to answer (`Default`: the only one waiting).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pick<'a> {
    /// The request's id, as `pending` lists it.
    pub push_id: Option<&'a str>,
    /// Only this account's requests (the client that asked knows who signs in).
    pub username: Option<&'a str>,
}

/// One waiting request, for a person to recognise: account, client, place and time.
pub fn describe(p: &PendingPush) -> String {
    crate::present::clean(&format!(
        "{} from {} ({}) at {}",
        p.username, p.client, p.ip, p.created_at
    ))
}

/// A fresh key pair: the private key and the base64 public key to register.
pub fn new_key() -> (SigningKey, String) {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = STANDARD.encode(key.verifying_key().as_bytes());
    (key, public)
}

pub struct Phone {
    dir: PathBuf,
    accounts: Vec<Account>,
    server_override: Option<String>,
}

impl Phone {
    /// Open (creating if needed) the phone's directory and read its accounts.
    pub fn open(dir: &Path) -> Result<Self> {
        let accounts = store::read_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            accounts,
            server_override: None,
        })
    }

    /// Talk to `url` for every account, this time only (nothing is saved).
    pub fn with_server_url(mut self, url: &str) -> Self {
        self.server_override = Some(url.to_string());
        self
    }

    /// Point every account at `url` and save it (the demo's port changes per run).
    pub fn set_server_url(&mut self, url: &str) -> Result<()> {
        loopback_client(url)?;
        for i in 0..self.accounts.len() {
            self.accounts[i].info.server_url = url.to_string();
            self.save(&self.accounts[i])?;
        }
        Ok(())
    }

    pub fn accounts(&self) -> Vec<AccountInfo> {
        self.accounts.iter().map(|a| a.info.clone()).collect()
    }

    fn save(&self, a: &Account) -> Result<()> {
        store::save(&self.dir, a)
    }

    /// Store an account (activation, or the demo seed writing it directly).
    pub fn install(&mut self, new: NewAccount) -> Result<()> {
        loopback_client(&new.server_url)?;
        let account = Account {
            info: AccountInfo {
                username: new.username,
                device_id: new.device_id,
                name: new.name,
                server_url: new.server_url,
            },
            key: new.key,
            totp_uri: new.totp_uri.map(SecretString::new),
        };
        self.save(&account)?;
        self.accounts
            .retain(|a| a.info.device_id != account.info.device_id);
        self.accounts.push(account);
        Ok(())
    }

    fn client(&self, a: &Account) -> Result<HttpClient> {
        let url = self
            .server_override
            .as_deref()
            .unwrap_or(&a.info.server_url);
        loopback_client(url)
    }

    /// Scan an activation link: make a key pair, register it, keep the key.
    pub async fn activate(&mut self, payload: &str, name: &str) -> Result<ActivateResponse> {
        let (code, url) = parse_payload(payload)?;
        let url = self.server_override.clone().unwrap_or(url);
        let client = loopback_client(&url)?;
        let (key, public_key) = new_key();
        let body = ActivateRequest {
            activation_code: code.expose().to_string(),
            public_key,
            name: name.to_string(),
            platform: "secinfo simulated phone".into(),
        };
        let resp: ActivateResponse = client
            .json(
                client
                    .request(Method::POST, "/v1/device/activate")?
                    .json(&body),
            )
            .await?;
        self.install(NewAccount {
            device_id: resp.device_id.clone(),
            username: resp.username.clone(),
            name: name.to_string(),
            server_url: url,
            key,
            totp_uri: resp.totp_uri.clone(),
        })?;
        Ok(resp)
    }

    fn proof(a: &Account, action: &str) -> DeviceProof {
        let timestamp = chrono::Utc::now().timestamp();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let message = format!("{action}:{}:{timestamp}:{nonce}", a.info.device_id);
        DeviceProof {
            timestamp,
            signature: STANDARD.encode(a.key.sign(message.as_bytes()).to_bytes()),
            nonce: Some(nonce),
        }
    }

    async fn pending_for(&self, a: &Account) -> Result<Vec<PendingPush>> {
        let client = self.client(a)?;
        let path = format!("/v1/device/{}/pending", a.info.device_id);
        Ok(client
            .json(
                client
                    .request(Method::POST, &path)?
                    .json(&Self::proof(a, "pending")),
            )
            .await?)
    }

    /// Sign-ins waiting for approval, over every account on this phone, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingPush>> {
        Ok(self
            .pending_with_account()
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    async fn pending_with_account(&self) -> Result<Vec<(usize, PendingPush)>> {
        if self.accounts.is_empty() {
            return Err(PhoneError::NoAccounts);
        }
        let mut all = Vec::new();
        let mut first_err = None;
        let mut reached = 0;
        for (i, a) in self.accounts.iter().enumerate() {
            match self.pending_for(a).await {
                Ok(list) => {
                    reached += 1;
                    all.extend(list.into_iter().map(|p| (i, p)));
                }
                Err(e) => {
                    tracing::warn!(account = %a.info.username, error = %e, "cannot read pending sign-ins");
                    first_err.get_or_insert(e);
                }
            }
        }
        if reached == 0
            && let Some(e) = first_err
        {
            return Err(e);
        }
        // Oldest first; the same order in every process (accounts come in directory order).
        all.sort_by(|a, b| {
            (&a.1.created_at, &a.1.username, &a.1.push_id).cmp(&(
                &b.1.created_at,
                &b.1.username,
                &b.1.push_id,
            ))
        });
        Ok(all)
    }

    /// Answers the one waiting request `pick` names, never "the newest":
    /// a request id, or else the only one waiting (for `pick.username`, when
    /// given). Several that match are `SeveralPending`, listed, for the person
    /// to choose from. Returns the request answered (its account, client and place).
    pub async fn answer(&self, pick: Pick<'_>, number: Option<u32>) -> Result<PendingPush> {
        let pending = self.pending_with_account().await?;
        let mut matching: Vec<(usize, PendingPush)> = pending
            .into_iter()
            .filter(|(_, p)| pick.push_id.is_none_or(|id| p.push_id == id))
            .filter(|(_, p)| {
                pick.username
                    .is_none_or(|u| p.username.eq_ignore_ascii_case(u))
            })
            .collect();
        let (i, push) = match (matching.len(), pick.push_id) {
            (1, _) => matching.remove(0),
            (0, Some(id)) => return Err(PhoneError::NoSuchPush(id.to_string())),
            (0, None) => return Err(PhoneError::NothingPending),
            _ => {
                return Err(PhoneError::SeveralPending(
                    matching.into_iter().map(|(_, p)| p).collect(),
                ));
            }
        };
        self.send_answer(i, &push, number).await?;
        Ok(push)
    }

    async fn send_answer(&self, i: usize, push: &PendingPush, number: Option<u32>) -> Result<()> {
        let a = &self.accounts[i];
        let action = if number.is_some() { "approve" } else { "deny" };
        let typed = number.map(|n| n.to_string()).unwrap_or_default();
        let message = format!("{action}:{}:{typed}", push.push_id);
        let answer = PushAnswer {
            number,
            signature: STANDARD.encode(a.key.sign(message.as_bytes()).to_bytes()),
        };
        let client = self.client(a)?;
        let path = format!(
            "/v1/device/{}/pushes/{}/{action}",
            a.info.device_id, push.push_id
        );
        Ok(client
            .empty(client.request(Method::POST, &path)?.json(&answer))
            .await?)
    }

    /// Approve the only waiting sign-in with the number shown on its screen
    /// (`SeveralPending` when there is more than one).
    pub async fn approve(&self, number: u32) -> Result<()> {
        self.answer(Pick::default(), Some(number)).await.map(drop)
    }

    /// Deny the only waiting sign-in (`SeveralPending` when there is more than one).
    pub async fn deny(&self) -> Result<()> {
        self.answer(Pick::default(), None).await.map(drop)
    }

    /// The app's "Remove account": tell the server, then drop the key here.
    pub async fn remove_account(&mut self, username: &str) -> Result<()> {
        let i = self
            .accounts
            .iter()
            .position(|a| a.info.username.eq_ignore_ascii_case(username))
            .ok_or_else(|| PhoneError::NoAccount(username.to_string()))?;
        let a = &self.accounts[i];
        let client = self.client(a)?;
        let path = format!("/v1/device/{}/unregister", a.info.device_id);
        client
            .empty(
                client
                    .request(Method::POST, &path)?
                    .json(&Self::proof(a, "unregister")),
            )
            .await?;
        let file = store::file(&self.dir, &a.info.device_id);
        std::fs::remove_file(&file).map_err(|e| storage(&file, e))?;
        self.accounts.remove(i);
        Ok(())
    }

    /// The current TOTP code the app shows for `username` (or the only account).
    pub fn code(&self, username: Option<&str>) -> Result<SecretString> {
        let a = match username {
            Some(u) => self
                .accounts
                .iter()
                .find(|a| a.info.username.eq_ignore_ascii_case(u)),
            None => self.accounts.first(),
        }
        .ok_or_else(|| PhoneError::NoAccount(username.unwrap_or("").to_string()))?;
        let uri = a
            .totp_uri
            .as_ref()
            .ok_or_else(|| PhoneError::NoAccount(format!("{} (no code on it)", a.info.username)))?;
        let totp = totp_rs::Totp::from_url_unchecked(uri.expose()).map_err(|e| {
            storage(
                &self.dir,
                format!("the stored TOTP link is unreadable: {e}"),
            )
        })?;
        Ok(SecretString::new(totp.generate_current().to_string()))
    }
}

/// A client for `url`, only when it is on this computer: the phone's key and
/// TOTP secrets sit unencrypted in its directory (a test and demo tool), so
/// they must never stand for an account on a real server.
fn loopback_client(url: &str) -> Result<HttpClient> {
    let client = HttpClient::new(url, DEFAULT_TIMEOUT, None)?;
    if !crate::backend::http::is_loopback(client.base()) {
        let host = client
            .base()
            .host_str()
            .unwrap_or("that server")
            .to_string();
        return Err(PhoneError::NotLoopback(crate::present::clean(&host)));
    }
    Ok(client)
}

fn parse_payload(payload: &str) -> Result<(SecretString, String)> {
    let url = url::Url::parse(payload.trim()).map_err(|_| PhoneError::BadPayload)?;
    if url.scheme() != "secinfo" || url.host_str() != Some("activate") {
        return Err(PhoneError::BadPayload);
    }
    let mut code = None;
    let mut server = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(SecretString::new(v.into_owned())),
            "url" => server = Some(v.into_owned()),
            _ => {}
        }
    }
    match (code, server) {
        (Some(c), Some(s)) if !c.is_empty() && !s.is_empty() => Ok((c, s)),
        _ => Err(PhoneError::BadPayload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_links_are_parsed_and_junk_is_refused() {
        let (code, url) =
            parse_payload("secinfo://activate?code=ABC&url=http%3A%2F%2F127.0.0.1%3A9").unwrap();
        assert_eq!(code.expose(), "ABC");
        assert_eq!(url, "http://127.0.0.1:9");
        assert!(matches!(
            parse_payload("https://x/activate?code=1&url=2"),
            Err(PhoneError::BadPayload)
        ));
        assert!(matches!(
            parse_payload("secinfo://activate?code=1"),
            Err(PhoneError::BadPayload)
        ));
        assert!(matches!(
            parse_payload("not a link"),
            Err(PhoneError::BadPayload)
        ));
    }
}

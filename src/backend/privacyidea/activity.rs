//! Recent activity from privacyIDEA's audit log (`GET /audit/`): a user with
//! the user-scope right `auditlog` reads their own entries. Reads (`GET …`)
//! are left out: what the user wants to see is sign-ins and changes.

use super::PrivacyIdea;
use crate::backend::{BackendError, Refusal, Result};
use crate::domain::{Ability, ActivityEvent, ActivityKind, ActivityPage};
use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method as Verb;
use serde_json::Value;

/// The right a user-scope policy must grant.
pub const RIGHT: &str = "auditlog";
const PAGE_SIZE: &str = "50";
/// Pages of reads only are skipped, up to this many per call, so one call
/// always ends even on a log of nothing but reads.
const MAX_PAGES_PER_CALL: u32 = 5;

/// Why the activity is not there: the one sentence for capabilities and calls.
pub fn not_allowed() -> Ability {
    super::tokens::right_missing("read your audit log", RIGHT)
}

fn refused() -> BackendError {
    BackendError::NotSupported(not_allowed().reason().unwrap_or_default().to_string())
}

/// Where the next page starts: privacyIDEA pages by number, and every call
/// (this one too) adds entries at the top, pushing older ones onto later
/// pages. So the cursor also holds the lowest entry number shown so far,
/// and anything not below it is left out: nothing is shown twice.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cursor {
    page: u32,
    below: Option<u64>,
}

impl Cursor {
    fn parse(s: &str) -> Option<Self> {
        let (page, below) = s.split_once('.').unwrap_or((s, ""));
        Some(Self {
            page: page.parse().ok()?,
            below: if below.is_empty() {
                None
            } else {
                Some(below.parse().ok()?)
            },
        })
    }

    fn text(&self) -> String {
        match self.below {
            Some(b) => format!("{}.{b}", self.page),
            None => self.page.to_string(),
        }
    }
}

impl PrivacyIdea {
    pub(super) async fn audit(&self, before: Option<&str>) -> Result<ActivityPage> {
        if !self.claims()?.rights.iter().any(|r| r == RIGHT) {
            return Err(refused());
        }
        let mut at = match before {
            None => Cursor {
                page: 1,
                below: None,
            },
            Some(c) => Cursor::parse(c).ok_or_else(|| {
                BackendError::Malformed(format!("{c} is not a page of the audit log"))
            })?,
        };
        for _ in 0..MAX_PAGES_PER_CALL {
            let page_s = at.page.to_string();
            let params = [
                ("page", page_s.as_str()),
                ("page_size", PAGE_SIZE),
                ("sortorder", "desc"),
            ];
            let reply = match self.user_call(Verb::GET, "audit/", &params).await {
                Err(e) if e.refusal() == Some(&Refusal::other("policy_denied")) => {
                    return Err(refused());
                }
                other => other?,
            };
            let entries = reply.value["auditdata"].as_array().ok_or_else(|| {
                BackendError::Malformed("the audit log has no 'auditdata'".into())
            })?;
            let fresh: Vec<&Value> = entries
                .iter()
                .filter(|e| match (at.below, e["number"].as_u64()) {
                    (Some(b), Some(n)) => n < b,
                    _ => true,
                })
                .collect();
            let events: Vec<ActivityEvent> = fresh.iter().filter_map(|e| event(e)).collect();
            let lowest = fresh.iter().filter_map(|e| e["number"].as_u64()).min();
            // Only a later page is followed: a server that names this page or
            // an earlier one again cannot keep the client going round.
            let next = reply.value["next"]
                .as_u64()
                .filter(|n| *n > at.page as u64 && !entries.is_empty())
                .map(|n| Cursor {
                    page: n as u32,
                    below: lowest.or(at.below),
                });
            match next {
                Some(n) if events.is_empty() => at = n,
                _ => {
                    return Ok(ActivityPage {
                        events,
                        next: next.map(|n| n.text()),
                    });
                }
            }
        }
        Ok(ActivityPage {
            events: Vec::new(),
            next: Some(at.text()),
        })
    }
}

/// One audit entry as an activity event; `None` for reads.
pub(super) fn event(e: &Value) -> Option<ActivityEvent> {
    let text = |k: &str| e[k].as_str().unwrap_or_default().trim().to_string();
    let action = text("action");
    let (verb, path) = action.split_once(' ').unwrap_or((action.as_str(), ""));
    if verb == "GET" {
        return None;
    }
    let ok = e["success"].as_i64() == Some(1) || e["success"].as_bool() == Some(true);
    let token = match (text("serial"), text("token_type")) {
        (s, _) if s.is_empty() => String::new(),
        (s, t) if t.is_empty() => s,
        (s, t) => format!("{s} ({})", t.to_uppercase()),
    };
    // "loginmode=None,Authentication failed.": the mode is privacyIDEA's business.
    let info = text("info");
    let info = match info.split_once(',') {
        Some((mode, rest)) if mode.starts_with("loginmode=") => rest.trim().to_string(),
        _ => info,
    };
    let failed = |what: String| {
        if ok || info.is_empty() {
            what
        } else {
            format!("{what}: {info}")
        }
    };
    let (kind, what) = match path {
        "/auth" | "/validate/check" | "/validate/samlcheck" if ok => {
            (ActivityKind::SignIn, "signed in".to_string())
        }
        "/auth" | "/validate/check" | "/validate/samlcheck" => (
            ActivityKind::FailedSignIn,
            failed("sign-in refused".to_string()),
        ),
        p if p.starts_with("/token/") => {
            let step = match p {
                "/token/init" => "enrolled",
                "/token/<serial>" | "/token/" => "removed",
                "/token/disable" | "/token/disable/<serial>" => "disabled",
                "/token/enable" | "/token/enable/<serial>" => "enabled",
                "/token/description" | "/token/description/<serial>" => "renamed",
                other => other.trim_start_matches("/token/"),
            };
            let what = match (ok, token.is_empty()) {
                (true, false) => format!("token {token} {step}"),
                (true, true) => format!("a token {step}"),
                (false, _) => failed(format!("token {token} could not be {step}")),
            };
            (ActivityKind::Methods, what)
        }
        _ => (ActivityKind::Other("other".into()), failed(action.clone())),
    };
    let agent = match (text("user_agent"), text("user_agent_version")) {
        (a, _) if a.is_empty() => None,
        (a, v) if v.is_empty() => Some(a),
        (a, v) => Some(format!("{a} {v}")),
    };
    let factor = (kind == ActivityKind::SignIn && path != "/auth" && !token.is_empty())
        .then(|| token.clone());
    Some(ActivityEvent {
        // privacyIDEA writes the server's local time without a zone; read as
        // UTC, which it is on most servers.
        at: NaiveDateTime::parse_from_str(&text("date"), "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|t| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)),
        kind,
        what,
        client: agent,
        ip: Some(text("client")).filter(|c| !c.is_empty()),
        factor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Entries as privacyIDEA 3.14 wrote them for alice (trimmed).
    #[test]
    fn sign_ins_and_token_changes_become_events_and_reads_are_left_out() {
        let refused = json!({"action": "POST /auth", "success": 0, "authentication": "REJECT",
            "client": "127.0.0.1", "date": "2026-12-07T06:02:42.925574",
            "info": "loginmode=None,Authentication failed.", "user_agent": "curl", "user_agent_version": "7.88.1"});
        let e = event(&refused).unwrap();
        assert_eq!(e.kind, ActivityKind::FailedSignIn);
        assert_eq!(e.what, "sign-in refused: Authentication failed.");
        assert_eq!(e.client.as_deref(), Some("curl 7.88.1"));
        assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            e.at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-07T06:02:42.925574+00:00")
        );

        let check = json!({"action": "POST /validate/check", "success": 1, "serial": "TOTP000360EC",
            "token_type": "totp", "info": "matching 1 tokens", "client": "127.0.0.1", "date": "2026-12-07T05:05:39.098815"});
        let e = event(&check).unwrap();
        assert_eq!(
            (e.kind, e.factor.as_deref()),
            (ActivityKind::SignIn, Some("TOTP000360EC (TOTP)"))
        );

        let deleted = json!({"action": "DELETE /token/<serial>", "success": 1, "serial": "TOTP000360EC",
            "token_type": "totp", "user_agent": "secinfo"});
        assert_eq!(
            event(&deleted).unwrap().what,
            "token TOTP000360EC (TOTP) removed"
        );

        let list = json!({"action": "GET /token/", "success": 1});
        assert_eq!(event(&list), None);
    }

    #[test]
    fn a_cursor_holds_the_page_and_the_lowest_entry_shown() {
        let c = Cursor::parse("3.1604").unwrap();
        assert_eq!((c.page, c.below), (3, Some(1604)));
        assert_eq!(Cursor::parse(&c.text()), Some(c));
        assert_eq!(Cursor::parse("2").map(|c| c.below), Some(None));
        for bad in ["", "x", "2.x", "-1"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hostile_entry_of_wrong_types_is_read_without_a_panic() {
        for e in [
            json!(null),
            json!({"action": 7, "success": "yes", "date": []}),
            json!({"action": "POST", "serial": {"a": 1}}),
        ] {
            let _ = event(&e);
        }
        assert_eq!(
            event(&json!({"action": 7})).map(|e| e.kind),
            Some(ActivityKind::Other("other".into()))
        );
    }
}

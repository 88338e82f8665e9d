//! `--json` output: dedicated types carrying `"schema": 1`, so the JSON is a
//! stable contract that does not move when internals do (README documents it).

use crate::accounts::KnownAccount;
use crate::domain::{ActivityPage, Device, Method, RememberedDevice, Session};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub const SCHEMA: u32 = 1;

pub fn print_json<T: Serialize>(value: &T) -> std::io::Result<()> {
    println!("{}", to_json(value)?);
    Ok(())
}

/// Pretty JSON in which nothing a terminal acts on is written raw: serde_json
/// escapes C0 controls but writes DEL, C1 controls (U+009B is CSI) and bidi
/// overrides as they are, so a server's name could still drive the terminal
/// a script's output lands on. They are written as `\uXXXX` instead: the
/// same JSON to any parser.
pub fn to_json<T: Serialize>(value: &T) -> std::io::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        TerminalSafe(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser).map_err(std::io::Error::other)?;
    String::from_utf8(out).map_err(std::io::Error::other)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || crate::present::clean(c.encode_utf8(&mut [0; 4])) != c.to_string()
}

struct TerminalSafe<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for TerminalSafe<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn ts(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[derive(Serialize)]
pub struct Methods {
    pub schema: u32,
    pub profile: String,
    pub methods: Vec<MethodOut>,
}

#[derive(Serialize)]
pub struct MethodOut {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub detail: String,
    pub created: Option<String>,
    pub last_used: Option<String>,
    pub is_default: bool,
    pub usable_mfa: bool,
    pub device_id: Option<String>,
}

impl MethodOut {
    fn new(m: &Method) -> Self {
        MethodOut {
            id: m.id.clone(),
            kind: m.kind.as_str().to_string(),
            title: m.kind.title(),
            detail: m.detail.clone(),
            created: ts(&m.created),
            last_used: ts(&m.last_used),
            is_default: m.is_default,
            usable_mfa: m.usable_mfa,
            device_id: m.device_id.clone(),
        }
    }
}

impl Methods {
    pub fn new(profile: &str, methods: &[Method]) -> Self {
        Self {
            schema: SCHEMA,
            profile: profile.to_string(),
            methods: methods.iter().map(MethodOut::new).collect(),
        }
    }
}

/// `lost-phone --dry-run --json`: each device with the methods on it.
#[derive(Serialize)]
pub struct LostPhonePlan {
    pub schema: u32,
    pub devices: Vec<DeviceWithMethods>,
}

#[derive(Serialize)]
pub struct DeviceWithMethods {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub methods: Vec<MethodOut>,
}

impl LostPhonePlan {
    pub fn new(devices: &[Device], methods: &[Method]) -> Self {
        Self {
            schema: SCHEMA,
            devices: devices
                .iter()
                .map(|d| DeviceWithMethods {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    platform: d.platform.clone(),
                    methods: crate::journeys::lost_phone::on_device(d, methods)
                        .into_iter()
                        .map(MethodOut::new)
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct Devices {
    pub schema: u32,
    pub devices: Vec<DeviceOut>,
}

#[derive(Serialize)]
pub struct DeviceOut {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub added: Option<String>,
    pub last_used: Option<String>,
    pub reachable: bool,
}

impl Devices {
    pub fn new(devices: &[Device]) -> Self {
        Self {
            schema: SCHEMA,
            devices: devices
                .iter()
                .map(|d| DeviceOut {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    platform: d.platform.clone(),
                    added: ts(&d.added),
                    last_used: ts(&d.last_used),
                    reachable: d.reachable,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct Sessions {
    pub schema: u32,
    pub sessions: Vec<SessionOut>,
}

#[derive(Serialize)]
pub struct SessionOut {
    pub id: String,
    pub client: String,
    pub ip: String,
    pub signed_in: Option<String>,
    pub last_active: Option<String>,
    pub current: bool,
}

impl Sessions {
    pub fn new(sessions: &[Session]) -> Self {
        Self {
            schema: SCHEMA,
            sessions: sessions
                .iter()
                .map(|s| SessionOut {
                    id: s.id.clone(),
                    client: s.client.clone(),
                    ip: s.ip.clone(),
                    signed_in: ts(&s.signed_in),
                    last_active: ts(&s.last_active),
                    current: s.current,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct Activity {
    pub schema: u32,
    pub events: Vec<ActivityOut>,
    /// Pass as `--before` for the older page.
    pub next: Option<String>,
}

#[derive(Serialize)]
pub struct ActivityOut {
    pub at: Option<String>,
    pub kind: String,
    pub what: String,
    pub client: Option<String>,
    pub ip: Option<String>,
    pub factor: Option<String>,
}

impl Activity {
    pub fn new(page: &ActivityPage) -> Self {
        Self {
            schema: SCHEMA,
            events: page
                .events
                .iter()
                .map(|e| ActivityOut {
                    at: ts(&e.at),
                    kind: e.kind.as_str().to_string(),
                    what: e.what.clone(),
                    client: e.client.clone(),
                    ip: e.ip.clone(),
                    factor: e.factor.clone(),
                })
                .collect(),
            next: page.next.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct Remembered {
    pub schema: u32,
    pub remembered_devices: Vec<RememberedOut>,
}

#[derive(Serialize)]
pub struct RememberedOut {
    pub id: String,
    pub client: String,
    pub created: Option<String>,
    pub expires: Option<String>,
    pub current: bool,
}

impl Remembered {
    pub fn new(list: &[RememberedDevice]) -> Self {
        Self {
            schema: SCHEMA,
            remembered_devices: list
                .iter()
                .map(|r| RememberedOut {
                    id: r.id.clone(),
                    client: r.client.clone(),
                    created: ts(&r.created),
                    expires: ts(&r.expires),
                    current: r.current,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct Status {
    pub schema: u32,
    pub profile: String,
    pub server: String,
    pub demo: bool,
    pub signed_in: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub secret_store: String,
    pub secret_persistence: String,
}

/// `login --json`: who is signed in, and whether the sign-in was kept.
#[derive(Serialize)]
pub struct LoggedIn {
    pub schema: u32,
    pub profile: String,
    pub username: String,
    pub display_name: String,
    /// The account has no second factor yet: add one.
    pub mfa_setup_required: bool,
    /// The sign-in is in the secret store for the next command; `note` says why not.
    pub kept: bool,
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct Accounts {
    pub schema: u32,
    pub accounts: Vec<AccountOut>,
}

#[derive(Serialize)]
pub struct AccountOut {
    pub profile: String,
    pub username: String,
    pub display_name: String,
}

impl From<&[KnownAccount]> for Accounts {
    fn from(list: &[KnownAccount]) -> Self {
        Self {
            schema: SCHEMA,
            accounts: list
                .iter()
                .map(|a| AccountOut {
                    profile: a.profile.clone(),
                    username: a.username.clone(),
                    display_name: a.display_name.clone(),
                })
                .collect(),
        }
    }
}

/// `methods add totp --json`: what a script needs to put the secret in an app.
#[derive(Serialize)]
pub struct EnrollmentStarted {
    pub schema: u32,
    pub enrollment_id: String,
    pub uri: Option<String>,
    pub secret: Option<String>,
}

#[derive(Serialize)]
pub struct AppPasswords {
    pub schema: u32,
    pub app_passwords: Vec<AppPasswordOut>,
}

#[derive(Serialize)]
pub struct AppPasswordOut {
    pub id: String,
    pub name: String,
    pub created: Option<String>,
    pub last_used: Option<String>,
}

impl AppPasswords {
    pub fn new(list: &[crate::domain::AppPassword]) -> Self {
        Self {
            schema: SCHEMA,
            app_passwords: list
                .iter()
                .map(|a| AppPasswordOut {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    created: ts(&a.created),
                    last_used: ts(&a.last_used),
                })
                .collect(),
        }
    }
}

/// `app-passwords create --json`: the password, this once.
#[derive(Serialize)]
pub struct AppPasswordCreated {
    pub schema: u32,
    pub id: String,
    pub name: String,
    pub password: String,
}

#[derive(Serialize)]
pub struct RecoveryCodesStatus {
    pub schema: u32,
    pub generated: bool,
    pub remaining: Option<u32>,
}

/// `recovery-codes generate --json`: the new set, this once.
#[derive(Serialize)]
pub struct RecoveryCodes {
    pub schema: u32,
    pub codes: Vec<String>,
}

/// Human-readable rows in aligned columns: each column as wide as its widest
/// cell (counted in characters, after cleaning), the last one not padded.
/// Long ids never break the table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let clean: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().cloned())
        .map(|r: Vec<String>| r.iter().map(|c| crate::present::clean(c)).collect())
        .collect();
    let columns = header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            clean
                .iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    clean
        .iter()
        .map(|r| {
            let cells: Vec<String> = (0..columns)
                .map(|i| {
                    let cell = r.get(i).map_or("", String::as_str);
                    if i + 1 == columns {
                        cell.to_string()
                    } else {
                        format!("{cell:<w$}", w = widths[i])
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod table_tests {
    #[test]
    fn columns_line_up_however_long_the_ids() {
        let rows = vec![
            vec!["m_1".into(), "Phone".into(), "+1 XXXXXXXX23".into()],
            vec![
                "m_0123456789abcdef0123456789abcdef".into(),
                "Authenticator app (code)".into(),
                "Pixel".into(),
            ],
        ];
        let lines = super::table(&["ID", "METHOD", "DETAIL"], &rows);
        let at: Vec<usize> = lines.iter().map(|l| l.find("  ").unwrap()).collect();
        assert!(lines.iter().all(|l| l.contains("  ")));
        let method_col = lines[0].find("METHOD").unwrap();
        assert_eq!(lines[1].find("Phone").unwrap(), method_col);
        assert_eq!(lines[2].find("Authenticator").unwrap(), method_col);
        assert!(at.iter().all(|a| *a <= method_col));
    }
}

#[cfg(test)]
mod terminal_safe_tests {
    #[test]
    fn json_output_escapes_c1_controls_del_and_bidi_overrides_and_parses_the_same() {
        let name = "a\u{9b}2J\u{7f}\u{202e}gnp\u{1b}]0;T\u{7}é😀";
        let text = super::to_json(&serde_json::json!({ "name": name })).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert!(text.contains("é😀"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"], name);
    }
}

/// `phone pending --json`: the sign-ins waiting on the simulated phone.
#[derive(Serialize)]
pub struct PhonePending {
    pub schema: u32,
    pub pending: Vec<PendingOut>,
}

#[derive(Serialize)]
pub struct PendingOut {
    pub id: String,
    pub username: String,
    pub client: String,
    pub ip: String,
    pub created_at: String,
}

impl PhonePending {
    pub fn new(list: &[crate::protocol::PendingPush]) -> Self {
        Self {
            schema: SCHEMA,
            pending: list
                .iter()
                .map(|p| PendingOut {
                    id: p.push_id.clone(),
                    username: p.username.clone(),
                    client: p.client.clone(),
                    ip: p.ip.clone(),
                    created_at: p.created_at.clone(),
                })
                .collect(),
        }
    }
}

/// `phone accounts --json`: the accounts on the simulated phone.
#[derive(Serialize)]
pub struct PhoneAccounts {
    pub schema: u32,
    pub accounts: Vec<PhoneAccountOut>,
}

#[derive(Serialize)]
pub struct PhoneAccountOut {
    pub username: String,
    pub name: String,
    pub device_id: String,
    pub server_url: String,
}

#[cfg(feature = "server")]
impl PhoneAccounts {
    pub fn new(list: &[crate::phone::AccountInfo]) -> Self {
        Self {
            schema: SCHEMA,
            accounts: list
                .iter()
                .map(|a| PhoneAccountOut {
                    username: a.username.clone(),
                    name: a.name.clone(),
                    device_id: a.device_id.clone(),
                    server_url: a.server_url.clone(),
                })
                .collect(),
        }
    }
}

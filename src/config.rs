//! The config file: TOML profiles in the platform config dir (or
//! `SECINFO_CONFIG`). Every key is documented in `config.example.toml`.
//! Unknown keys and bad values are errors naming the file, line and key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The commented example, written by `secinfo config init`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}, line {line}{key}: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{path}: no profile named '{name}' (profiles here: {known})")]
    NoSuchProfile {
        path: String,
        name: String,
        known: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    #[serde(default)]
    pub ui: Ui,
    /// Key overrides: action name → keys.
    #[serde(default)]
    pub keys: BTreeMap<String, toml::Spanned<Vec<String>>>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    #[serde(default)]
    pub theme: ThemeName,
    /// Click to focus and activate, wheel to scroll. Off by default: while an
    /// app takes the mouse, the terminal's own text selection (copying a code,
    /// over SSH too) needs Shift held.
    #[serde(default)]
    pub mouse: bool,
    /// In `--plain`, codes show as they are typed, so a screen reader says
    /// them back (a password never does).
    #[serde(default = "echo_codes")]
    pub plain_echo_codes: bool,
}

fn echo_codes() -> bool {
    true
}

impl Default for Ui {
    fn default() -> Self {
        Self {
            theme: ThemeName::default(),
            mouse: false,
            plain_echo_codes: echo_codes(),
        }
    }
}

/// Which theme to draw with. Only the name lives here, where `app` and the CLI
/// can read it; `ui::theme::Theme::new` turns it into styles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    #[default]
    Default,
    HighContrast,
    /// For terminals with a light background: no yellow or cyan text.
    Light,
    Mono,
}

impl ThemeName {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "default" => Some(Self::Default),
            "high-contrast" | "high_contrast" => Some(Self::HighContrast),
            "light" => Some(Self::Light),
            "mono" => Some(Self::Mono),
            _ => None,
        }
    }

    /// NO_COLOR (any non-empty value, see no-color.org) turns every theme mono.
    pub fn honour_no_color(self, no_color: Option<&std::ffi::OsStr>) -> Self {
        match no_color {
            Some(v) if !v.is_empty() => Self::Mono,
            _ => self,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    #[default]
    Native,
    Privacyidea,
    /// Microsoft Entra ID through Microsoft Graph (device-code sign-in).
    Graph,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretStoreChoice {
    /// The OS keyring if one persists, else a passphrase.
    #[default]
    Auto,
    Keyring,
    Passphrase,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub backend: BackendKind,
    /// The server (native, privacyIDEA); Graph profiles use `graph_url` instead.
    #[serde(default)]
    pub url: String,
    /// privacyIDEA: the user's realm.
    pub realm: Option<String>,
    /// A PEM file with a private CA to trust.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub secret_store: SecretStoreChoice,
    /// Pre-filled on the sign-in screen.
    pub username: Option<String>,
    /// Graph: the tenant (its id, a verified domain, or `organizations`).
    pub tenant: Option<String>,
    /// Graph: the public client app registration's id.
    pub client_id: Option<String>,
    /// Graph: the sign-in server (default https://login.microsoftonline.com).
    pub authority: Option<String>,
    /// Graph: the API (default https://graph.microsoft.com).
    pub graph_url: Option<String>,
    /// Where users do what the API cannot (default My Sign-ins' Security info).
    pub portal_url: Option<String>,
}

impl Profile {
    /// The address requests go to, as `status` and `doctor` show it.
    pub fn server_url(&self) -> String {
        match self.backend {
            BackendKind::Graph => self
                .graph_url
                .clone()
                .unwrap_or_else(|| crate::backend::graph::DEFAULT_GRAPH_URL.into()),
            _ => self.url.clone(),
        }
    }

    /// Each URL key with its value, for checking: `(key, url)`.
    fn urls(&self) -> Vec<(&'static str, &str)> {
        match self.backend {
            BackendKind::Graph => [
                ("authority", &self.authority),
                ("graph_url", &self.graph_url),
                ("portal_url", &self.portal_url),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect(),
            _ => vec![("url", self.url.as_str())],
        }
    }

    /// Keys a backend cannot do without.
    fn missing(&self) -> Option<&'static str> {
        match self.backend {
            BackendKind::Graph if self.tenant.as_deref().is_none_or(str::is_empty) => {
                Some("tenant")
            }
            BackendKind::Graph if self.client_id.as_deref().is_none_or(str::is_empty) => {
                Some("client_id")
            }
            BackendKind::Graph => None,
            _ if self.url.is_empty() => Some("url"),
            _ => None,
        }
    }
}

fn default_timeout() -> u64 {
    15
}

impl Config {
    /// Read the file at `path`; a missing file is `Ok(None)` (the demo is used then).
    pub fn load(path: &Path) -> Result<Option<Config>, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Self::parse(&text, path).map(Some)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| invalid(path, text, e.span(), e.message()))?;
        for (name, profile) in &config.profiles {
            let table_line = find(text, &format!("[profiles.{name}]"))
                .map(|s| line_of(text, s.start))
                .unwrap_or(1);
            if let Some(key) = profile.missing() {
                return Err(ConfigError::Invalid {
                    path: path.display().to_string(),
                    line: table_line,
                    key: format!(" (profiles.{name}.{key})"),
                    message: format!("this backend needs {key}"),
                });
            }
            for (key, url) in profile.urls() {
                if let Err(e) = crate::backend::http::parse_base_url(url) {
                    return Err(ConfigError::Invalid {
                        path: path.display().to_string(),
                        line: table_line,
                        key: format!(" (profiles.{name}.{key})"),
                        message: e.to_string(),
                    });
                }
            }
            if profile.timeout_secs == 0 {
                return Err(ConfigError::Invalid {
                    path: path.display().to_string(),
                    line: find(text, "timeout_secs")
                        .map(|s| line_of(text, s.start))
                        .unwrap_or(1),
                    key: format!(" (profiles.{name}.timeout_secs)"),
                    message: "must be at least 1 second".into(),
                });
            }
        }
        if let Some(d) = &config.default_profile
            && !config.profiles.contains_key(d)
        {
            return Err(ConfigError::NoSuchProfile {
                path: path.display().to_string(),
                name: d.clone(),
                known: config.profile_names(),
            });
        }
        Ok(config)
    }

    pub fn profile_names(&self) -> String {
        let names: Vec<_> = self.profiles.keys().map(String::as_str).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// The named profile, or the default one (or the only one).
    pub fn profile(
        &self,
        name: Option<&str>,
        path: &Path,
    ) -> Result<(String, &Profile), ConfigError> {
        let wanted = name
            .map(str::to_string)
            .or_else(|| self.default_profile.clone())
            .or_else(|| {
                (self.profiles.len() == 1)
                    .then(|| self.profiles.keys().next().cloned())
                    .flatten()
            });
        let Some(wanted) = wanted else {
            return Err(ConfigError::NoSuchProfile {
                path: path.display().to_string(),
                name: "(none chosen: set default_profile or pass --profile)".into(),
                known: self.profile_names(),
            });
        };
        match self.profiles.get(&wanted) {
            Some(p) => Ok((wanted, p)),
            None => Err(ConfigError::NoSuchProfile {
                path: path.display().to_string(),
                name: wanted,
                known: self.profile_names(),
            }),
        }
    }

    /// Key overrides as the keymap wants them.
    pub fn key_overrides(&self) -> BTreeMap<String, Vec<String>> {
        self.keys
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect()
    }

    /// The line of a `[keys]` entry, for error messages.
    pub fn key_line(&self, text: &str, action: &str) -> usize {
        self.keys
            .get(action)
            .map(|v| line_of(text, v.span().start))
            .unwrap_or(1)
    }
}

fn find(text: &str, needle: &str) -> Option<std::ops::Range<usize>> {
    text.find(needle).map(|i| i..i + needle.len())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn invalid(
    path: &Path,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: &str,
) -> ConfigError {
    let line = span.as_ref().map(|s| line_of(text, s.start)).unwrap_or(1);
    // The offending key: the left side of `key = value` on that line, or the word the span points at.
    let line_text = span.as_ref().and_then(|s| {
        let start = text[..s.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        text[start..].lines().next()
    });
    let key = line_text
        .and_then(|l| l.split_once('=').map(|(k, _)| k))
        .or_else(|| span.and_then(|s| text.get(s)))
        .map(|k| {
            k.trim()
                .trim_matches(|c| c == '"' || c == '[' || c == ']')
                .to_string()
        })
        .filter(|k| !k.is_empty() && !k.contains('\n') && k.len() < 60)
        .map(|k| format!(" (key '{k}')"))
        .unwrap_or_default();
    ConfigError::Invalid {
        path: path.display().to_string(),
        line,
        key,
        message: message.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/tmp/c.toml"))
    }

    #[test]
    fn the_example_config_is_valid() {
        let c = parse(EXAMPLE).unwrap();
        assert!(!c.profiles.is_empty());
    }

    #[test]
    fn the_example_key_overrides_are_valid_keymap_entries() {
        let c = parse(EXAMPLE).unwrap();
        assert!(!c.keys.is_empty());
        crate::app::keymap::Keymap::with_overrides(&c.key_overrides()).unwrap();
    }

    #[test]
    fn plain_mode_echoes_codes_unless_told_not_to() {
        assert!(parse("").unwrap().ui.plain_echo_codes);
        assert!(
            parse("[ui]\ntheme = \"mono\"\n")
                .unwrap()
                .ui
                .plain_echo_codes
        );
        assert!(parse(EXAMPLE).unwrap().ui.plain_echo_codes);
        let off = parse("[ui]\nplain_echo_codes = false\n").unwrap();
        assert!(!off.ui.plain_echo_codes);
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let err = parse("[ui]\ntheme = \"mono\"\ncolour = \"red\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/tmp/c.toml, line 3"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn a_bad_value_names_its_line() {
        let err = parse(
            "[profiles.work]\nbackend = \"native\"\nurl = \"https://x\"\ntimeout_secs = \"soon\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("timeout_secs"), "{err}");
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_at_load() {
        let err =
            parse("[profiles.work]\nbackend = \"native\"\nurl = \"http://idp.example.com\"\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("profiles.work.url") && err.contains("plain http://"),
            "{err}"
        );
    }

    #[test]
    fn a_graph_profile_needs_tenant_and_client_id_and_keeps_http_to_loopback() {
        let ok = parse(
            "[profiles.work]\nbackend = \"graph\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"c\"\n",
        )
        .unwrap();
        assert_eq!(
            ok.profiles["work"].server_url(),
            "https://graph.microsoft.com"
        );
        let err = parse("[profiles.work]\nbackend = \"graph\"\ntenant = \"t\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("profiles.work.client_id"), "{err}");
        let err = parse(
            "[profiles.work]\nbackend = \"graph\"\ntenant = \"t\"\nclient_id = \"c\"\nauthority = \"http://login.example.com\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("profiles.work.authority") && err.contains("plain http://"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_default_profile_is_named() {
        let err = parse("default_profile = \"home\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("home"), "{err}");
    }
}

//! The accounts this client knows ("You have multiple accounts — choose the
//! account you want to sign in with"). A JSON file in the state dir holding
//! names only: no tokens, no passwords.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownAccount {
    pub profile: String,
    pub username: String,
    pub display_name: String,
    /// Unix time of the last sign-in.
    pub last_used: i64,
}

#[derive(Debug, Clone, Default)]
pub struct KnownAccounts {
    path: PathBuf,
    accounts: Vec<KnownAccount>,
}

#[derive(Serialize, Deserialize)]
struct File {
    accounts: Vec<KnownAccount>,
}

impl KnownAccounts {
    /// The list's usual place.
    pub fn default_path() -> PathBuf {
        crate::paths::state_dir().join("accounts.json")
    }

    /// Never fails: a missing or unreadable list is empty (and logged), so a
    /// damaged file can't keep anyone from signing in.
    pub fn load(path: &Path) -> Self {
        let accounts = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<File>(&bytes) {
                Ok(f) => f.accounts,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable accounts list");
                    Vec::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read accounts list");
                Vec::new()
            }
        };
        Self {
            path: path.to_path_buf(),
            accounts,
        }
    }

    /// Most recently used first.
    pub fn list(&self) -> &[KnownAccount] {
        &self.accounts
    }

    /// The accounts of one profile, most recent first.
    pub fn for_profile<'a>(
        &'a self,
        profile: &'a str,
    ) -> impl Iterator<Item = &'a KnownAccount> + 'a {
        self.accounts.iter().filter(move |a| a.profile == profile)
    }

    pub fn remember(
        &mut self,
        profile: &str,
        username: &str,
        display_name: &str,
    ) -> std::io::Result<()> {
        self.accounts
            .retain(|a| !(a.profile == profile && a.username == username));
        self.accounts.insert(
            0,
            KnownAccount {
                profile: profile.to_string(),
                username: username.to_string(),
                display_name: display_name.to_string(),
                last_used: chrono::Utc::now().timestamp(),
            },
        );
        self.save()
    }

    /// Returns whether the account was on the list.
    pub fn remove(&mut self, profile: &str, username: &str) -> std::io::Result<bool> {
        let before = self.accounts.len();
        self.accounts
            .retain(|a| !(a.profile == profile && a.username == username));
        let removed = self.accounts.len() != before;
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    fn save(&self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::paths::ensure_private_dir(dir)?;
        }
        let body = serde_json::to_vec_pretty(&File {
            accounts: self.accounts.clone(),
        })?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, body)?;
        std::fs::rename(tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_accounts_come_back_most_recent_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.json");
        let mut a = KnownAccounts::load(&path);
        a.remember("demo", "alice@contoso.test", "Alice").unwrap();
        a.remember("demo", "bob@contoso.test", "Bob").unwrap();
        a.remember("demo", "alice@contoso.test", "Alice").unwrap();
        let again = KnownAccounts::load(&path);
        let names: Vec<_> = again.list().iter().map(|a| a.username.as_str()).collect();
        assert_eq!(names, ["alice@contoso.test", "bob@contoso.test"]);
    }

    #[test]
    fn removing_an_account_forgets_it_and_a_damaged_list_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.json");
        let mut a = KnownAccounts::load(&path);
        a.remember("p", "u", "U").unwrap();
        assert!(a.remove("p", "u").unwrap());
        assert!(!a.remove("p", "u").unwrap());
        assert!(KnownAccounts::load(&path).list().is_empty());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(KnownAccounts::load(&path).list().is_empty());
    }
}

//! Where secinfo keeps things: platform dirs via `directories`, each
//! overridable by an environment variable so tests and scripts stay apart.

use std::path::PathBuf;

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "secinfo")
}

fn dir(env: &str, pick: impl Fn(&directories::ProjectDirs) -> PathBuf, fallback: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    project()
        .map(|p| pick(&p))
        .unwrap_or_else(|| std::env::temp_dir().join(fallback))
}

/// The config file: `SECINFO_CONFIG` or `<config dir>/config.toml`.
pub fn config_file() -> PathBuf {
    if let Some(p) = std::env::var_os("SECINFO_CONFIG") {
        return PathBuf::from(p);
    }
    dir(
        "SECINFO_CONFIG_DIR",
        |p| p.config_dir().to_path_buf(),
        "secinfo-config",
    )
    .join("config.toml")
}

/// Data: the encrypted secret file, the demo database and its tokens, the phone's key.
pub fn data_dir() -> PathBuf {
    dir(
        "SECINFO_DATA_DIR",
        |p| p.data_dir().to_path_buf(),
        "secinfo-data",
    )
}

/// State: the known-accounts list and the log file.
pub fn state_dir() -> PathBuf {
    dir(
        "SECINFO_STATE_DIR",
        |p| {
            p.state_dir()
                .map(|s| s.to_path_buf())
                .unwrap_or_else(|| p.data_local_dir().join("state"))
        },
        "secinfo-state",
    )
}

/// Create a directory readable only by its owner.
pub fn ensure_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

//! `secinfo doctor`: what secinfo would use and whether it works — config,
//! profile, secret store (which, why, how long), server reachability and
//! TLS, clock skew against the server (TOTP depends on it), the terminal.

use super::{Context, Global, Outcome, output};
use crate::backend::http::HttpClient;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Serialize)]
struct Report {
    schema: u32,
    config: Check,
    profile: String,
    demo: bool,
    secret_store: crate::secrets::StoreInfo,
    server: Check,
    transport: String,
    clock_skew_secs: Option<i64>,
    terminal: Terminal,
    log_file: String,
}

#[derive(Serialize)]
struct Check {
    ok: bool,
    detail: String,
}

#[derive(Serialize)]
struct Terminal {
    is_terminal: bool,
    size: Option<(u16, u16)>,
    colors: String,
    unicode: bool,
}

pub async fn run(g: &Global, json: bool) -> Outcome {
    let path = crate::paths::config_file();
    let config = match crate::config::Config::load(&path) {
        Ok(Some(_)) => Check {
            ok: true,
            detail: format!("{} is valid", path.display()),
        },
        Ok(None) => Check {
            ok: true,
            detail: format!("no file at {}: the demo is used", path.display()),
        },
        Err(e) => Check {
            ok: false,
            detail: e.to_string(),
        },
    };
    if !config.ok {
        let report = serde_json::json!({ "schema": 1, "config": config });
        return if json {
            Ok(output::print_json(&report)?)
        } else {
            Err(super::Failure::new(
                super::exit::CONFIG,
                "config",
                config.detail,
            ))
        };
    }
    let ctx = Context::open(g).await?;
    let (mut server, transport, skew) = probe(&ctx.server_url).await;
    if server.ok {
        // Reachable is not the same as working: ask the provider who it is.
        server = match ctx.backend.server_info().await {
            Ok(info) => Check {
                ok: true,
                detail: format!("{}; it is {} {}", server.detail, info.name, info.version),
            },
            Err(e) => Check {
                ok: false,
                detail: format!(
                    "{}, but it did not answer as the profile expects: {e}",
                    server.detail
                ),
            },
        };
    }
    let report = Report {
        schema: 1,
        config,
        profile: ctx.profile.clone(),
        demo: ctx.demo.is_some(),
        secret_store: ctx.store.info(),
        server,
        transport,
        clock_skew_secs: skew,
        terminal: terminal(),
        log_file: crate::logging::log_file().display().to_string(),
    };
    if json {
        return Ok(output::print_json(&report)?);
    }
    let mark = |ok: bool| if ok { "ok  " } else { "FAIL" };
    say!(
        "{} config        {}",
        mark(report.config.ok),
        report.config.detail
    );
    say!(
        "     profile       {}{}",
        report.profile,
        if report.demo {
            " (the built-in demo)"
        } else {
            ""
        }
    );
    say!("     secret store  {}", report.secret_store.name);
    say!("                   why: {}", report.secret_store.why);
    say!(
        "                   kept: {}",
        report.secret_store.persistence
    );
    say!(
        "{} server        {}",
        mark(report.server.ok),
        report.server.detail
    );
    say!("     transport     {}", report.transport);
    match report.clock_skew_secs {
        Some(s) if s.abs() > 30 => say!(
            "FAIL clock          {s:+} s from the server: codes from an authenticator app will be refused"
        ),
        Some(s) => say!("ok   clock          {s:+} s from the server"),
        None => say!("     clock          the server sent no Date header"),
    }
    let t = &report.terminal;
    let size = t
        .size
        .map(|(w, h)| format!("{w}x{h}"))
        .unwrap_or_else(|| "not a terminal".into());
    say!(
        "     terminal      {size}, colors: {}, unicode: {}",
        t.colors,
        if t.unicode { "yes" } else { "no" }
    );
    say!("     log file      {}", report.log_file);
    if report.server.ok {
        Ok(())
    } else {
        Err(super::Failure::new(
            super::exit::BACKEND,
            "unreachable",
            report.server.detail,
        ))
    }
}

async fn probe(url: &str) -> (Check, String, Option<i64>) {
    let http = match HttpClient::new(url, Duration::from_secs(10), None) {
        Ok(h) => h,
        Err(e) => {
            return (
                Check {
                    ok: false,
                    detail: e.to_string(),
                },
                "refused".into(),
                None,
            );
        }
    };
    let transport = if http.base().scheme() == "https" {
        "TLS (rustls), certificate verified".to_string()
    } else {
        "plain HTTP, allowed only because it stays on this machine (loopback)".to_string()
    };
    let started = Instant::now();
    match http.probe("").await {
        Ok((status, date)) => {
            let skew = date.map(|d| chrono::Utc::now().signed_duration_since(d).num_seconds());
            let ms = started.elapsed().as_millis();
            (
                Check {
                    ok: true,
                    detail: if status < 400 {
                        format!("{url} is reachable (HTTP {status} in {ms} ms)")
                    } else {
                        // An API need not serve its root: any answer means it is there.
                        format!(
                            "{url} is reachable (its root answered HTTP {status}, normal for an API, in {ms} ms)"
                        )
                    },
                },
                transport,
                skew,
            )
        }
        Err(e) => (
            Check {
                ok: false,
                detail: e.to_string(),
            },
            transport,
            None,
        ),
    }
}

fn terminal() -> Terminal {
    use std::io::IsTerminal;
    let is_terminal = std::io::stdout().is_terminal();
    let colors = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        "none (NO_COLOR)".to_string()
    } else if std::env::var("COLORTERM")
        .is_ok_and(|c| c.contains("truecolor") || c.contains("24bit"))
    {
        "truecolor".to_string()
    } else if std::env::var("TERM").is_ok_and(|t| t.contains("256")) {
        "256".to_string()
    } else {
        "basic".to_string()
    };
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    Terminal {
        is_terminal,
        size: if is_terminal {
            crossterm::terminal::size().ok()
        } else {
            None
        },
        colors,
        unicode: locale.is_some_and(|l| {
            l.to_uppercase().contains("UTF-8") || l.to_uppercase().contains("UTF8")
        }),
    }
}

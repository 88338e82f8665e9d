//! secinfo: the "Security info" page of an identity provider, in a terminal.
//! See ARCHITECTURE.md for the layers and how an event flows.

pub mod accounts;
pub mod app;
pub mod backend;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod journeys;
pub mod logging;
pub mod paths;
#[cfg(feature = "server")]
pub mod phone;
pub mod plain;
pub mod present;
pub mod protocol;
pub mod qr;
pub mod secrets;
#[cfg(feature = "server")]
pub mod server;
pub mod tui;
pub mod ui;
pub mod validate;

//! Settings: [`Config`](crate::Config) and [`Server`](crate::Server), read from the environment
//! (`from_env.rs`) or set in code (`config.rs`, `server.rs`), the names, defaults and bounds of
//! the variables (`env.rs`), the rules for metric and label names (`names.rs`), and every value
//! checked once when the configuration takes effect (`checked.rs`).
//!
//! Plain data: uses nothing of the crate but `redact`, and reads no file (files are read, and
//! ports bound, when the destinations are built: see `destinations`).

pub(crate) mod checked;
pub(crate) mod config;
pub(crate) mod env;
pub(crate) mod from_env;
pub(crate) mod names;
pub(crate) mod server;

//! Settings: [`Config`](crate::Config), read from the environment or set in code, the names,
//! defaults and bounds of the variables, and the rules for metric and label names. Each value
//! is checked once, when the configuration takes effect.
//!
//! Plain data: uses nothing of the crate but `error` and `redact`, and reads no file (files are
//! read when the destinations are built, see `destinations`).

pub(crate) mod config;
pub(crate) mod env;
pub(crate) mod names;

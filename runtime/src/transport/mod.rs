//! Transport: one HTTP request to one server, made safely. The server's URL taken apart, its
//! TLS files and credentials read without blocking and checked at start-up, the agent, the
//! retries within a deadline, and the connector that hands each request to the kernel whole.
//!
//! May use `settings` (variable names for messages), `error`, `redact` and `diagnostics`;
//! knows nothing of metrics.

pub(crate) mod auth;
pub(crate) mod deadline;
pub(crate) mod endpoint;
pub(crate) mod http;
pub(crate) mod retry;
pub(crate) mod tls;
pub(crate) mod url;
pub(crate) mod whole_request;

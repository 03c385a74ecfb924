//! Encoding: metric families turned into the bytes a server takes, the text exposition for
//! the Pushgateway and the remote-write protobuf.
//!
//! A leaf: uses nothing of the crate but `diagnostics`.

pub(crate) mod text;
pub(crate) mod write_request;

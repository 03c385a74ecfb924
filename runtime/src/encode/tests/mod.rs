//! Unit tests of the encoders with the model's families, one file per concern: the text
//! encoder against the `prometheus` crate's `TextEncoder` byte for byte (`text.rs`), the
//! protobuf encoder decoded back (`protobuf.rs`), both on hostile input (`robust.rs`), and
//! their output read by `promtool` (`promtool.rs`) and by a real Pushgateway (`gateway.rs`).
//! The families they share are in `fixtures.rs` (the model's own tests, `model/tests.rs`, use
//! them too); finding binaries and plain HTTP in `support.rs`.

pub(crate) mod fixtures;
mod gateway;
mod promtool;
mod protobuf;
mod robust;
mod support;
mod text;

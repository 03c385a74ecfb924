//! Unit tests of the model and its encoders, one file per concern, with what they share in
//! `support.rs`.

mod family;
mod fixtures;
mod gateway;
mod promtool;
mod protobuf;
mod robust;
mod support;
mod text;

//! Encoding: the model's families (`model/`) turned into the bytes a server takes. Every
//! encoder here reads [`Family`](crate::model::family::Family) values, leaves out what a
//! receiver could not read ([`check::usable`](crate::model::check::usable), the same for all of
//! them) and says so as [`Problem`](crate::model::check::Problem)s, which the caller reports
//! (once: see `store/registry.rs`); none fails or panics.
//!
//! | file | what |
//! |---|---|
//! | `text.rs` | the text exposition (format 0.0.4), the one text encoder: [`render`](crate::render), the Pushgateway, the textfile, `/metrics` |
//! | `protobuf.rs` | the delimited protobuf exposition (`io.prometheus.client.MetricFamily`), its `prost` messages |
//! | `exposition.rs` | the Pushgateway's body: text, or protobuf when a family has a native histogram |
//! | `write_request.rs` | the remote-write 1.0 body: the same series as the text format, as protobuf `WriteRequest`s, snappy-compressed, cut into requests |
//! | `tests/` | the encoders' unit tests against the `prometheus` crate's encoder, `promtool` and a real Pushgateway |
//!
//! A leaf: uses nothing of the crate but `model`.

pub(crate) mod exposition;
pub(crate) mod protobuf;
pub(crate) mod text;
pub(crate) mod write_request;

#[cfg(test)]
pub(crate) mod tests;

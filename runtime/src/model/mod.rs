//! The project's own model of what it pushes: metric families as plain data, and the
//! encoders that turn them into bytes for the wire.
//!
//! The `prometheus` crate's data model (`prometheus::proto`) has no native histograms and no
//! room for what the next issues add; this one carries every type a destination takes:
//! counters, gauges, untyped values, summaries, classic histograms and native histograms
//! (with or without classic buckets alongside).
//!
//! | file | what |
//! |---|---|
//! | `family.rs` | the model: [`Family`](family::Family) (name, HELP, [`Kind`](family::Kind), metrics), [`Metric`](family::Metric) (ordered labels, a [`Value`](family::Value), maybe a timestamp), [`Summary`](family::Summary), [`Histogram`](family::Histogram) with classic [`Bucket`](family::Bucket)s and [`Native`](family::Native) buckets; [`NativeBuckets::from_indexed`](family::NativeBuckets::from_indexed) |
//! | `convert.rs` | families from `prometheus::proto::MetricFamily` (the user's `registry()`) |
//! | `check.rs` | what every encoder leaves out, and the [`Problem`](check::Problem) it reports |
//! | `samples.rs` | a metric as the flat samples of the text format (for remote write too) |
//! | `text.rs` | the text format 0.0.4, byte for byte as the `prometheus` crate writes it |
//! | `protobuf.rs` | the delimited protobuf format (`io.prometheus.client.MetricFamily`), its `prost` messages |
//! | `tests/` | the unit tests, against the `prometheus` crate's encoder, `promtool` and a real Pushgateway |
//!
//! Uses nothing of the crate: a leaf, like `encode/`.
//!
//! # Decisions
//! - Plain data with `pub(crate)` fields: a family is built with a `Vec` push per series and
//!   read without accessors. Nothing here allocates cleverly or caches.
//! - Classic buckets hold finite bounds only; the `+Inf` bucket is implicit, always the
//!   histogram's count, as the format requires (both encoders ignore a `+Inf` bound given
//!   anyway, and the conversion drops one, so a series never has two).
//! - Native buckets hold absolute integer counts per bucket, as client_golang does; the
//!   protobuf encoder writes the deltas the wire carries. No float histograms (no client
//!   makes them; the messages declare their fields, for reading).
//! - Encoders never fail and never panic: what a receiver could not read (a bad metric or
//!   label name, a value of another kind than its family, an impossible native histogram) is
//!   left out and reported as a [`Problem`](check::Problem), the rest is written. Both encoders
//!   leave out exactly the same ([`check::usable`]).
//! - The text encoder writes what the `prometheus` crate's `TextEncoder` writes, byte for
//!   byte, but infinities as `+Inf`/`-Inf` (see `text.rs`), and it also writes untyped
//!   families (that encoder panics on them). A native histogram in text is what the
//!   Pushgateway shows of one: its classic buckets if any, `+Inf`, `_sum`, `_count`.
//! - Timestamps are carried (a user's collector may set them) and written; pushtimer's own
//!   families never have one (the Pushgateway refuses them).
//!
//! # What uses it (the next step; none of it is done yet)
//! - `store/families.rs` (`own_families`) and `store/run.rs` build model families instead of
//!   `prometheus::proto` ones; the user's families come through
//!   [`from_prometheus`](convert::from_prometheus) right after `Registry::gather`. The
//!   collision check uses [`Family::sample_names`](family::Family::sample_names) instead of
//!   `store/families.rs`'s `sample_names`.
//! - `encode/text.rs` becomes [`text::to_string`] (each [`Problem`](check::Problem) becomes a
//!   warning `Note`, once); `render()`, the textfile and the listen destinations use it.
//! - The gateway sends text ([`text::CONTENT_TYPE`]), or delimited protobuf
//!   ([`protobuf::to_vec`], [`protobuf::CONTENT_TYPE`]) when
//!   [`Family::has_native_histogram`](family::Family::has_native_histogram) holds for a family
//!   pushed (text would lose its buckets). Both bodies gzip the same way.
//! - `encode/write_request.rs` turns model families into series with [`samples::samples`]
//!   (and [`text::float`] for the `le`/`quantile` label value) instead of its own `samples`,
//!   so remote write and text have the same series; a native histogram also goes into
//!   `TimeSeries.histograms` from its [`Native`](family::Native) part
//!   ([`NativeBuckets::deltas`](family::NativeBuckets::deltas), spans as they are).
//! - A store of native histograms keeps counts by bucket index and builds its buckets with
//!   [`NativeBuckets::from_indexed`](family::NativeBuckets::from_indexed).

pub(crate) mod check;
pub(crate) mod convert;
pub(crate) mod family;
pub(crate) mod protobuf;
pub(crate) mod samples;
pub(crate) mod text;

#[cfg(test)]
mod tests;

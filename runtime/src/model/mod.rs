//! The project's own model of what it pushes: metric families as plain data, what every
//! destination sends. The store builds pushtimer's families in it (`store/families.rs`,
//! `store/run.rs`), the user's `registry()` is converted to it once per render
//! (`store/registry.rs`), and every encoder reads it (`encode/`).
//!
//! The `prometheus` crate's data model (`prometheus::proto`) has no native histograms and no
//! room for what the next issues add; this one carries every type a destination takes:
//! counters, gauges, untyped values, summaries, classic histograms and native histograms
//! (with or without classic buckets alongside). That crate stays for `registry()` only: its
//! data model appears in `convert.rs` and in the user's registry (`store/registry.rs`).
//!
//! | file | what |
//! |---|---|
//! | `family.rs` | the model: [`Family`](family::Family) (name, HELP, [`Kind`](family::Kind), metrics), [`Metric`](family::Metric) (ordered labels, a [`Value`](family::Value), maybe a timestamp), [`Summary`](family::Summary), [`Histogram`](family::Histogram) with classic [`Bucket`](family::Bucket)s and [`Native`](family::Native) buckets; [`NativeBuckets::from_indexed`](family::NativeBuckets::from_indexed) |
//! | `convert.rs` | families from `prometheus::proto::MetricFamily` (the user's `registry()`) |
//! | `check.rs` | what every encoder leaves out, and the [`Problem`](check::Problem) it reports |
//! | `samples.rs` | a metric as the flat samples of the text format (remote write makes the same series of them) |
//! | `tests.rs` | the unit tests of the model's own helpers (the encoders' are in `encode/tests/`) |
//!
//! Uses nothing of the crate: a leaf, below `encode/`.
//!
//! # Decisions
//! - Plain data with `pub(crate)` fields: a family is built with a `Vec` push per series and
//!   read without accessors. Nothing here allocates cleverly or caches.
//! - Classic buckets hold finite bounds only; the `+Inf` bucket is implicit, always the
//!   histogram's count, as the format requires (every encoder ignores a `+Inf` bound given
//!   anyway, and the conversion drops one, so a series never has two).
//! - Native buckets hold absolute integer counts per bucket, as client_golang does; the
//!   protobuf encoder writes the deltas the wire carries. No float histograms (no client
//!   makes them; the messages declare their fields, for reading).
//! - Encoders never fail and never panic: what a receiver could not read (a bad metric or
//!   label name, a value of another kind than its family, an impossible native histogram) is
//!   left out and reported as a [`Problem`](check::Problem), the rest is written. Every
//!   encoder leaves out exactly the same ([`check::usable`]); the registry turns each problem
//!   into one warning per family and run.
//! - The text encoder (`encode/text.rs`) writes what the `prometheus` crate's `TextEncoder`
//!   writes, byte for byte, but infinities as `+Inf`/`-Inf`, and it also writes untyped
//!   families (that encoder panics on them). A native histogram in text is what the
//!   Pushgateway shows of one: its classic buckets if any, `+Inf`, `_sum`, `_count`.
//! - Timestamps are carried (a user's collector may set them) and written; pushtimer's own
//!   families never have one (the Pushgateway refuses them).
//!
//! # What uses it
//! - `store/families.rs` (`own_families`) and `store/run.rs` build model families; the user's
//!   come through [`from_prometheus`](convert::from_prometheus) right after
//!   `Registry::gather`, in `Registry::families_with`, where the collision check uses
//!   [`Family::sample_names`](family::Family::sample_names).
//! - `encode/text.rs` writes them for [`render`](crate::render), the textfile and `/metrics`;
//!   `encode/exposition.rs` for the gateway, as text, or as delimited protobuf
//!   (`encode/protobuf.rs`) when
//!   [`Family::has_native_histogram`](family::Family::has_native_histogram) holds for a family
//!   pushed (text would lose its buckets). Both bodies gzip the same way.
//! - `encode/write_request.rs` turns them into remote-write series with [`samples::samples`]
//!   and the text encoder's numbers for the `le`/`quantile` label value, so remote write and
//!   text have the same series.
//!
//! # Not done yet (the next issues)
//! - A native histogram in remote write: `TimeSeries.histograms` from its
//!   [`Native`](family::Native) part ([`NativeBuckets::deltas`](family::NativeBuckets::deltas),
//!   spans as they are). Until then remote write sends what text shows of one.
//! - A store of native histograms keeps counts by bucket index and builds its buckets with
//!   [`NativeBuckets::from_indexed`](family::NativeBuckets::from_indexed).

pub(crate) mod check;
pub(crate) mod convert;
pub(crate) mod family;
pub(crate) mod samples;

#[cfg(test)]
mod tests;

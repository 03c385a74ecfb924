//! The store: the series observations land in (sharded counts, sums, buckets and quantile
//! sketches; sharded counters; gauges), the registry that names them and renders them with the user's `prometheus`
//! metrics as the model's families, the job's own gauges and records, and the flags that tell
//! the push thread whether anything changed.
//!
//! May use `settings` (the validated naming), `model` (what it renders) and `encode` (the text
//! of `render`); never the network, never a thread of its own.

pub(crate) mod changes;
pub(crate) mod counter;
pub(crate) mod exponential;
pub(crate) mod families;
pub(crate) mod gauge;
pub(crate) mod reentry;
pub(crate) mod refused;
pub(crate) mod registry;
pub(crate) mod resources;
pub(crate) mod run;
pub(crate) mod shard;
pub(crate) mod sketch;
pub(crate) mod summary;

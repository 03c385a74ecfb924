//! Recording: what the code `#[timed]` generates calls, and the handles for durations timed by
//! hand. The start of an observation's way: a call site resolves its series once (in `store`)
//! and from then on each call is two clock reads and two atomic adds on the series' shard.
//!
//! May use `store`, `settings` (name checks) and `lifecycle` (the process-wide runtime); nothing
//! here sends anything.

pub(crate) mod call_site;
pub(crate) mod call_timer;
pub(crate) mod clock;
pub(crate) mod counter;
pub(crate) mod counter_site;
pub(crate) mod described;
pub(crate) mod gauge;
pub(crate) mod handle;
pub(crate) mod outcome;
pub(crate) mod timer;

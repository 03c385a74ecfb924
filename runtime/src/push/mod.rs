//! Pushing: the lanes. Each destination gets a lane of its own (a thread, its pacing, its
//! reports, the rendezvous with flushes), and [`Lanes`](lanes::Lanes) asks every lane
//! for a flush or the last act at exit and waits for them within one deadline.
//!
//! May use `store` (what to send, as `model` families), `transport` (deadlines, retries, the
//! outcome of a request) and `diagnostics`. Knows destinations only through the
//! [`Destination`](destination::Destination) trait; the destinations themselves live in
//! `destinations`.

pub(crate) mod destination;
pub(crate) mod lane;
pub(crate) mod lanes;
pub(crate) mod pacing;
pub(crate) mod rendezvous;
pub(crate) mod report;

//! What a lane needs of a destination: each one in `destinations/` implements [`Destination`],
//! and each has a lane of its own (`lane.rs`): its own thread, pacing, reports and rendezvous
//! with flushes, so a dead or stalled one costs the others nothing, not even at exit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::diagnostics;
use crate::model::check::Problem;
use crate::model::family::Family;
use crate::store::changes;
use crate::store::registry::{Gathered, Registry};
use crate::transport::http::Exchange;
use crate::transport::retry::Retries;

/// Where the metrics go, as its lane drives it.
pub(crate) trait Destination: Send + Sync + 'static {
    /// What the lane keeps between rounds for this destination.
    type Memory: Default + Send;

    /// The name of the lane's thread.
    const THREAD: &'static str;

    /// Whether a round reads (and clears) the process-wide "changed" flags of `changes.rs`:
    /// only one destination may, or the flags one takes would be lost to the other.
    const TAKES_CHANGES: bool;

    /// How the destination is named in messages: a URL without credentials, or a path.
    fn name(&self) -> String;

    /// The part of [`Destination::name`] the user gave (a server's base URL, without
    /// credentials), where the name starts: it is passed through the redaction function once
    /// more when shown, the rest (a group's path that pushtimer built) as it is.
    fn base(&self) -> &str;

    /// Called once when the lane starts, before its first round: for a destination with work
    /// of its own besides the rounds (serving scrapes, say). Nothing by default.
    fn start(&'static self, _registry: &'static Registry) {}

    /// A periodic round (`flush` false) or a flush: sends the state if it is due, and says
    /// what came of it; `None` when nothing was due.
    fn send_state(
        &self,
        round: &Round<'_>,
        flush: bool,
        memory: &mut Self::Memory,
    ) -> Option<Exchange>;

    /// The last act at exit: the final state (or the group's deletion) and the run's records.
    fn send_last(&self, round: &Round<'_>, last: LastAct) -> Exchange;

    /// What the last act is called in the verdict at exit ("final push", say).
    fn last_act_name(&self) -> &'static str;
}

/// The last act at exit: the final state (the gateway may delete the job's group instead),
/// then the records of the run's end (see `store/run.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct LastAct {
    /// The process's exit code, when known.
    pub(crate) exit_code: Option<i32>,
}

/// What a round reads from outside its lane: the clock, and whether anything was recorded
/// since the last round (the "changed" flags of `changes.rs`). Read once at the start of the
/// round by [`Outside::now`]; a round is a function of it and of the lane's memory, so the
/// keep-alive can be checked without waiting five minutes or seeing the process-wide flags
/// that other code marks.
#[derive(Clone, Copy)]
pub(crate) struct Outside {
    /// When the round starts; a successful push to the gateway counts from then.
    pub(crate) now: Instant,
    /// Something was recorded since the last round (always false for a destination that
    /// does not take the flags).
    pub(crate) recorded: bool,
}

impl Outside {
    /// The clock now, and the "changed" flags taken (cleared) when `take_changes`.
    pub(crate) fn now(take_changes: bool) -> Outside {
        Outside {
            now: Instant::now(),
            recorded: take_changes && changes::take(),
        }
    }
}

/// One round as a destination sees it: where the state comes from, how long it may take
/// and how hard to try.
pub(crate) struct Round<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) deadline: Instant,
    pub(crate) retries: Retries,
    pub(crate) outside: Outside,
    /// The lane's count of renders (for `PushThreadStats`).
    pub(crate) renders: &'a AtomicU64,
}

impl Round<'_> {
    /// Everything to send, as the model's families, with the user's families `user` (as
    /// gathered: see [`Registry::user_families`]): counted as a render, its notes emitted.
    pub(crate) fn render(&self, user: &Gathered) -> Vec<Family> {
        self.renders.fetch_add(1, Ordering::Relaxed);
        let (families, notes) = self.registry.families_with(user);
        diagnostics::emit(notes);
        families
    }

    /// [`render`](Self::render) with the user's metrics as they are now.
    pub(crate) fn render_now(&self) -> Vec<Family> {
        self.render(&self.registry.user_families())
    }

    /// Tells the user what an encoder left out, each family once per run (see
    /// [`Registry::notes_about`]).
    pub(crate) fn report(&self, problems: Vec<Problem>) {
        diagnostics::emit(self.registry.notes_about(problems));
    }
}

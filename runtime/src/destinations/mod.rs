//! Destinations: where the metrics go, one module each (a file, or a folder when it grows past
//! one concern), each implementing
//! [`Destination`](crate::push::destination::Destination) and building its own lane from the
//! settings: the Pushgateway (`gateway.rs`, with the public [`Pusher`](crate::Pusher) for one
//! group in `pusher.rs` and the group's path in `grouping.rs`), a remote-write endpoint
//! (`remote_write.rs`), a file for the node exporter's textfile collector (`textfile/`) and a
//! `/metrics` endpoint served while the job runs (`listen/`). [`build`] is the one place they
//! are built; adding a destination is its module and one line there, plus its setting (a
//! variable in `settings/env.rs`, read in `from_env.rs`, a `Config` method, a field of
//! `PushSettings`, and a row in the README's table, which `tests/readme.rs` holds to the code).
//!
//! May use `push`, `store`, `model` (the families a round renders), `encode`, `transport` and
//! `settings`. What an encoder leaves out is reported through the round
//! ([`Round::report`](crate::push::destination::Round::report)), once per family.

pub(crate) mod gateway;
pub(crate) mod grouping;
pub(crate) mod listen;
pub(crate) mod pusher;
pub(crate) mod remote_write;
pub(crate) mod textfile;

#[cfg(test)]
mod tests;

use crate::error::PushError;
use crate::push::lanes::Lanes;
use crate::settings::checked::PushSettings;
use crate::settings::env;

/// Every destination that is set, each with its lane; or why nothing is sent anywhere
/// (`NotConfigured` when no destination is set). A destination that cannot be used is
/// reported in `problems` and left out, and the others still work. Reads the files the
/// settings name and binds what they ask for: call it at start-up, not while the runtime is
/// being created (see `lifecycle/global.rs`).
pub(crate) fn build(settings: &PushSettings) -> (Result<Lanes, PushError>, Vec<String>) {
    let mut problems = Vec::new();
    if !settings.any_destination() {
        return (Err(PushError::NotConfigured), problems);
    }
    let job = settings.job();
    if job.is_empty() {
        // The job is every series' `job` label and the gateway's group: without it, nothing
        // can go anywhere.
        let error = PushError::InvalidConfig {
            setting: env::JOB,
            reason: "the job name must not be empty".into(),
        };
        problems.push(format!("{error}; nothing will be pushed"));
        return (Err(error), problems);
    }
    let built = [
        gateway::build(settings, &job, &mut problems),
        remote_write::build(settings, &job, &mut problems),
        textfile::build(settings, &job, &mut problems),
        listen::build(settings, &job, &mut problems),
    ];
    let mut lanes = Vec::with_capacity(built.len());
    let mut unusable = Vec::new();
    for lane in built.into_iter().flatten() {
        match lane {
            Ok(lane) => lanes.push(lane),
            Err(error) => unusable.push(error),
        }
    }
    let consequence = if lanes.is_empty() {
        "nothing will be pushed"
    } else {
        "that destination is left out; the others work"
    };
    for error in &unusable {
        problems.push(format!("{error}; {consequence}"));
    }
    let lanes = if lanes.is_empty() {
        Err(unusable.pop().unwrap_or(PushError::NotConfigured))
    } else {
        Ok(Lanes::new(lanes, settings.timeout, settings.signals))
    };
    (lanes, problems)
}

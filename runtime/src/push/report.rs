//! What to tell the user about push outcomes: a failure when it starts, not on every push; a
//! recovery; and, at exit, whether this run's metrics were delivered.

use crate::diagnostics::Note;
use crate::error::PushError;

/// After this many warnings during the run the reporter stays silent, so a flapping gateway
/// cannot flood the job's log. The verdict of the final push may add one more.
const MAX_RUN_WARNINGS: u32 = 4;

/// Remembers the failure last reported.
#[derive(Debug, Default)]
pub(crate) struct Reporter {
    current_failure: Option<String>,
    warnings: u32,
    final_reported: bool,
}

impl Reporter {
    /// The note for a push during the run, if it differs from the state already reported.
    pub(crate) fn report(&mut self, target: &str, result: &Result<(), PushError>) -> Option<Note> {
        match result {
            Ok(()) => self
                .current_failure
                .take()
                .map(|_| Note::info(format!("pushing to {target} works again"))),
            Err(error) => {
                let kind = error.kind();
                if self.current_failure.as_deref() == Some(kind.as_str()) {
                    return None;
                }
                self.current_failure = Some(kind);
                if self.warnings >= MAX_RUN_WARNINGS {
                    return None;
                }
                self.warnings += 1;
                let last = if self.warnings == MAX_RUN_WARNINGS {
                    " Further push failures are not logged."
                } else {
                    ""
                };
                Some(Note::warn(format!(
                    "push to {target} failed: {error}. The job is not affected; the next \
                     successful push carries everything recorded so far.{last}"
                )))
            }
        }
    }

    /// The note for the last act at exit (`what`: "final push" or "deletion of the group"):
    /// said once, and never promising a later push, since there is none.
    pub(crate) fn report_final(
        &mut self,
        what: &str,
        target: &str,
        result: &Result<(), PushError>,
    ) -> Option<Note> {
        if std::mem::replace(&mut self.final_reported, true) {
            return None;
        }
        match result {
            Ok(()) => self.report(target, result),
            Err(error) => Some(Note::warn(format!(
                "the {what} to {target} failed at exit: {error}. This run's metrics were not \
                 delivered."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_failure_is_remembered_and_warnings_are_capped() {
        let mut reporter = Reporter::default();
        let refused = Err(PushError::ConnectionRefused);
        let notes = (0..100)
            .filter_map(|_| reporter.report("g", &refused))
            .count();
        assert_eq!(notes, 1);
        let notes = (500..600)
            .filter_map(|code| {
                reporter.report(
                    "g",
                    &Err(PushError::Status {
                        code,
                        body: String::new(),
                    }),
                )
            })
            .count();
        assert_eq!(notes, MAX_RUN_WARNINGS as usize - 1);
        let recovered = reporter.report("g", &Ok(()));
        assert!(recovered.unwrap().text.contains("works again"));
        assert_eq!(reporter.current_failure, None);
    }

    #[test]
    fn the_final_verdict_is_honest_and_said_once() {
        let mut reporter = Reporter::default();
        for _ in 0..10 {
            reporter.report("g", &Err(PushError::ConnectionRefused));
        }
        let note = reporter
            .report_final("final push", "g", &Err(PushError::ConnectionRefused))
            .unwrap();
        assert!(note.text.contains("were not delivered"), "{}", note.text);
        assert!(!note.text.contains("next successful push"), "{}", note.text);
        assert!(
            reporter
                .report_final("final push", "g", &Err(PushError::Timeout))
                .is_none()
        );
    }
}

//! Logging of push outcomes: a failure is logged when it starts, not on every push.

use crate::error::PushError;

/// After this many warnings the reporter stays silent, so a flapping gateway cannot flood the
/// job's log.
const MAX_WARNINGS: u32 = 5;

/// Remembers the failure last logged.
#[derive(Debug, Default)]
pub(crate) struct Reporter {
    current_failure: Option<String>,
    warnings: u32,
}

impl Reporter {
    /// Logs `result` if it differs from the state already reported.
    pub(crate) fn report(&mut self, target: &str, result: &Result<(), PushError>) {
        match result {
            Ok(()) => {
                if self.current_failure.take().is_some() {
                    log::info!("pushtimer: pushing to {target} works again");
                }
            }
            Err(error) => {
                let kind = error.kind();
                if self.current_failure.as_deref() == Some(kind.as_str()) {
                    return;
                }
                self.current_failure = Some(kind);
                if self.warnings < MAX_WARNINGS {
                    self.warnings += 1;
                    let last = if self.warnings == MAX_WARNINGS {
                        " (further push failures are not logged)"
                    } else {
                        ""
                    };
                    log::warn!(
                        "pushtimer: push to {target} failed: {error} (the job is not affected; \
                         any later push carries everything recorded){last}"
                    );
                }
            }
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
        for _ in 0..100 {
            reporter.report("g", &refused);
        }
        assert_eq!(reporter.warnings, 1);
        for code in 500..600 {
            reporter.report(
                "g",
                &Err(PushError::Status {
                    code,
                    body: String::new(),
                }),
            );
        }
        assert_eq!(reporter.warnings, MAX_WARNINGS);
        reporter.report("g", &Ok(()));
        assert_eq!(reporter.current_failure, None);
    }
}

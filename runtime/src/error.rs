//! The errors pushtimer hands back. None of them is ever raised as a panic.

use std::fmt;

/// Why a push, a delete or a [`flush`](crate::flush) did not reach its destination. A
/// [`flush`](crate::flush) that some destination did not take answers
/// [`PushError::Undelivered`], naming each destination (by its URL without credentials, or its
/// path) with why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// No destination is set (`PUSHGATEWAY_URL`, `PUSHTIMER_REMOTE_WRITE_URL`,
    /// `PUSHTIMER_TEXTFILE`, `PUSHTIMER_LISTEN`, or the same in [`Config`](crate::Config)):
    /// nothing is sent anywhere.
    NotConfigured,
    /// A setting is unusable, e.g. a URL that does not parse; `setting` names the variable.
    InvalidConfig {
        /// The environment variable (or builder method) at fault.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing listens at the gateway's address.
    ConnectionRefused,
    /// The gateway's host name does not resolve.
    HostNotFound,
    /// The push did not finish within the push deadline (`PUSHGATEWAY_TIMEOUT`).
    Timeout,
    /// The TLS handshake failed (untrusted certificate, wrong host name, expired, ...).
    Tls {
        /// What rustls reported.
        reason: String,
    },
    /// The gateway answered with a status other than 2xx.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The start of the gateway's answer, which says why (e.g. `... is not a SUMMARY`).
        body: String,
    },
    /// The server answered with a redirect (3xx), which is not followed: a redirect could carry
    /// the credentials to another server. Point the URL setting at the server itself.
    Redirect {
        /// The HTTP status code (301, 302, 307, 308, ...).
        code: u16,
        /// Where it pointed (its `Location` header), with any `user:password@` hidden; `None`
        /// when it had none.
        location: Option<String>,
    },
    /// Any other transport failure.
    Transport {
        /// What went wrong.
        reason: String,
    },
    /// [`flush`](crate::flush) gave up waiting: the push did not complete within the deadline.
    FlushDeadline,
    /// This process is a `fork()` of the one that started pushing: only that one pushes (the
    /// push thread does not exist here).
    Forked {
        /// The process id of the parent that pushes.
        parent: u32,
    },
    /// [`flush`](crate::flush) was called after the final push at exit had run (from an
    /// `atexit` handler, say, or a thread still running while the process exits): nothing was
    /// sent, and nothing will be.
    FinalPushDone,
    /// [`flush`](crate::flush) reached some destination but not every one: each in `failed`,
    /// named by its URL (without credentials), with why; those in `delivered` took the push.
    Undelivered {
        /// The destinations the push did not reach: URL and cause.
        failed: Vec<(String, PushError)>,
        /// The destinations that took the push (the other one, when both are set).
        delivered: Vec<String>,
    },
}

impl PushError {
    /// Worth another attempt within the deadline: the gateway may be restarting or busy, or
    /// cluster DNS may be having a moment. Client errors (4xx but 429), TLS and configuration
    /// problems will not go away by retrying.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            PushError::ConnectionRefused
            | PushError::HostNotFound
            | PushError::Timeout
            | PushError::Transport { .. } => true,
            // 429: too many requests, come back later (its Retry-After is honoured).
            PushError::Status { code, .. } => *code == 429 || *code >= 500,
            _ => false,
        }
    }

    /// A short name of the kind of failure, used so the same failure is logged once, not on
    /// every push.
    pub(crate) fn kind(&self) -> String {
        match self {
            PushError::NotConfigured => "not configured".into(),
            PushError::InvalidConfig { setting, .. } => format!("invalid {setting}"),
            PushError::ConnectionRefused => "connection refused".into(),
            PushError::HostNotFound => "host not found".into(),
            PushError::Timeout => "timeout".into(),
            PushError::Tls { .. } => "tls".into(),
            PushError::Status { code, .. } => format!("status {code}"),
            PushError::Redirect { code, .. } => format!("redirect {code}"),
            PushError::Transport { .. } => "transport".into(),
            PushError::FlushDeadline => "flush deadline".into(),
            PushError::Forked { .. } => "forked".into(),
            PushError::FinalPushDone => "final push done".into(),
            PushError::Undelivered { failed, .. } => {
                let kinds: Vec<String> = failed.iter().map(|(_, error)| error.kind()).collect();
                format!("undelivered: {}", kinds.join(", "))
            }
        }
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::NotConfigured => {
                write!(
                    f,
                    "pushing is off: no destination is set (PUSHGATEWAY_URL, \
                     PUSHTIMER_REMOTE_WRITE_URL, PUSHTIMER_TEXTFILE or PUSHTIMER_LISTEN)"
                )
            }
            PushError::InvalidConfig { setting, reason } => {
                write!(f, "invalid {setting}: {reason}")
            }
            PushError::ConnectionRefused => {
                write!(f, "connection refused (is the server running?)")
            }
            PushError::HostNotFound => write!(f, "host not found (DNS)"),
            PushError::Timeout => {
                write!(
                    f,
                    "no answer within the push deadline (PUSHGATEWAY_TIMEOUT)"
                )
            }
            PushError::Tls { reason } => write!(f, "TLS failure: {reason}"),
            PushError::Status { code, body } if *code == 401 || *code == 403 => write!(
                f,
                "the server answered HTTP {code} {body}: check the credentials set for it \
                 (PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD, or PUSHGATEWAY_BEARER_TOKEN_FILE; \
                 for remote write, the PUSHTIMER_REMOTE_WRITE_ ones)"
            ),
            PushError::Status { code, body } if body.is_empty() => {
                write!(f, "the server answered HTTP {code}")
            }
            PushError::Status { code, body } => {
                write!(f, "the server answered HTTP {code}: {body}")
            }
            PushError::Redirect { code, location } => {
                match location {
                    Some(location) => write!(
                        f,
                        "the server answered HTTP {code}, a redirect to {location}"
                    )?,
                    None => write!(
                        f,
                        "the server answered HTTP {code}, a redirect without a Location"
                    )?,
                }
                write!(
                    f,
                    "; redirects are not followed (one could carry the credentials to another \
                     server): point the URL setting at the server itself"
                )
            }
            PushError::Transport { reason } => write!(f, "{reason}"),
            PushError::FlushDeadline => {
                write!(f, "the push did not complete within the push deadline")
            }
            PushError::Forked { parent } => write!(
                f,
                "this process is a fork() of pid {parent}; its metrics are not pushed (only the parent pushes)"
            ),
            PushError::FinalPushDone => write!(
                f,
                "the final push already ran (the process is exiting); nothing sent"
            ),
            PushError::Undelivered { failed, delivered } => {
                for (i, (url, error)) in failed.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}not delivered to {url}: {error}")?;
                }
                if !delivered.is_empty() {
                    write!(f, "; delivered to {}", delivered.join(" and "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PushError {}

/// Why a hand observation was refused; the summary's [`rejected`](crate::Summary::rejected)
/// count went up by one instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidObservation {
    /// The refused value, in seconds.
    pub seconds: f64,
}

impl fmt::Display for InvalidObservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "observation of {} seconds refused: a duration must be finite, non-negative and below 2^64 ns",
            self.seconds
        )
    }
}

impl std::error::Error for InvalidObservation {}

/// A value a [`Gauge`](crate::Gauge) refused: NaN or infinite, or an add whose sum would be.
/// Nothing was recorded, and the refusal was counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidValue {
    /// The refused value (for an add, the amount added).
    pub value: f64,
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "value {} refused: a gauge's value must be finite, and so must a sum it is added to",
            self.value
        )
    }
}

impl std::error::Error for InvalidValue {}

/// Why a hand-made summary or histogram was refused: its name, one of its labels, its bucket
/// bounds or its quantiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMetric {
    /// The metric's name, as given.
    pub metric: String,
    /// What is wrong, naming the label when it is a label.
    pub reason: String,
}

impl fmt::Display for InvalidMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "metric {:?} refused: {}", self.metric, self.reason)
    }
}

impl std::error::Error for InvalidMetric {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undelivered_flush_names_what_failed_and_what_took_it() {
        let partly = PushError::Undelivered {
            failed: vec![(
                "http://rw:9/api/v1/write".into(),
                PushError::ConnectionRefused,
            )],
            delivered: vec!["http://gw:9091/metrics/job/x".into()],
        };
        assert_eq!(
            partly.to_string(),
            "not delivered to http://rw:9/api/v1/write: connection refused (is the server \
             running?); delivered to http://gw:9091/metrics/job/x"
        );
        let neither = PushError::Undelivered {
            failed: vec![
                ("http://gw:9091/metrics/job/x".into(), PushError::Timeout),
                (
                    "http://rw:9/api/v1/write".into(),
                    PushError::Status {
                        code: 400,
                        body: "bad".into(),
                    },
                ),
            ],
            delivered: Vec::new(),
        };
        let shown = neither.to_string();
        assert!(
            shown.starts_with("not delivered to http://gw:9091/metrics/job/x: no answer"),
            "{shown}"
        );
        assert!(
            shown.ends_with(
                "; not delivered to http://rw:9/api/v1/write: the server answered HTTP 400: bad"
            ),
            "{shown}"
        );
    }
}

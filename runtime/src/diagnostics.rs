//! How pushtimer tells the user something: through the `log` crate when the program has a
//! logging backend, else straight to stderr, so a failing gateway is never silent.
//!
//! Whoever has something to say collects it as a [`Note`] while holding locks or setting
//! things up, and calls [`emit`] afterwards: a logger may itself call a `#[timed]` function,
//! so pushtimer never calls into it with a lock held or a one-time set-up in progress.

use log::Level;

/// A message for the user, not yet emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) level: Level,
    pub(crate) text: String,
}

impl Note {
    pub(crate) fn warn(text: impl Into<String>) -> Note {
        Note {
            level: Level::Warn,
            text: text.into(),
        }
    }

    pub(crate) fn info(text: impl Into<String>) -> Note {
        Note {
            level: Level::Info,
            text: text.into(),
        }
    }
}

/// Emits `notes`, in order. Call with no lock held.
pub(crate) fn emit(notes: impl IntoIterator<Item = Note>) {
    for note in notes {
        emit_one(&note);
    }
}

/// Emits one warning. Call with no lock held.
pub(crate) fn warn(text: impl Into<String>) {
    emit_one(&Note::warn(text));
}

/// Writes one warning in a `fork()` child, where any lock (the logger's, even Rust's own
/// stderr lock) may have been held by a parent's thread that does not exist here: straight to
/// a fresh handle on the process's stderr, never through the logger.
pub(crate) fn warn_after_fork(text: &str) {
    use std::io::Write;
    let line = format!("pushtimer: warning: {text}\n");
    match std::fs::OpenOptions::new().append(true).open("/dev/stderr") {
        Ok(mut stderr) => {
            let _ = stderr.write_all(line.as_bytes());
        }
        // No /dev/stderr (not Linux, say): the ordinary stderr, which is unlocked unless a
        // thread of the parent was writing to it at the very moment of the fork.
        Err(_) => {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

fn emit_one(note: &Note) {
    if has_log_backend() {
        log::log!(target: "pushtimer", note.level, "pushtimer: {}", note.text);
    } else if note.level <= Level::Warn {
        // No backend: warnings still reach a human. Informational lines stay quiet.
        eprintln!("pushtimer: warning: {}", note.text);
    }
}

/// True when the program installed a `log` backend. Without one, `log`'s maximum level stays
/// at its initial `Off`; every backend raises it when it is installed (and a program that set
/// it back to `Off` asked for silence from `log`, not from pushtimer: it gets stderr).
fn has_log_backend() -> bool {
    log::max_level() != log::LevelFilter::Off
}

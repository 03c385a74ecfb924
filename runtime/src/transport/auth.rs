//! Credentials for the gateway: basic auth, or a bearer token read from a file.
//!
//! Secrets never reach a log line or an error: `Debug` shows only which kind is set.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::PushError;
use crate::user_file::UserFile;

/// How requests authenticate.
#[derive(Default)]
pub(crate) enum Auth {
    #[default]
    None,
    /// The ready `Authorization` header value, `Basic <base64(user:password)>`.
    Basic(String),
    Bearer(TokenFile),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic(_) => f.write_str("Basic(***)"),
            Auth::Bearer(file) => write!(f, "Bearer({})", file.path.display()),
        }
    }
}

impl Auth {
    pub(crate) fn basic(username: &str, password: &str) -> Auth {
        Auth::Basic(format!(
            "Basic {}",
            STANDARD.encode(format!("{username}:{password}"))
        ))
    }

    /// A bearer token from `path`, read now (so a missing file is reported at start-up).
    pub(crate) fn bearer_file(path: &Path, setting: &'static str) -> Result<Auth, PushError> {
        let file = TokenFile {
            setting,
            path: path.to_owned(),
            cache: Mutex::new(None),
        };
        file.token()?;
        Ok(Auth::Bearer(file))
    }

    /// The `Authorization` header value, if any.
    pub(crate) fn header(&self) -> Result<Option<String>, PushError> {
        match self {
            Auth::None => Ok(None),
            Auth::Basic(value) => Ok(Some(value.clone())),
            Auth::Bearer(file) => Ok(Some(format!("Bearer {}", file.token()?))),
        }
    }

    pub(crate) fn is_some(&self) -> bool {
        !matches!(self, Auth::None)
    }
}

/// A token file as mounted from a Kubernetes Secret: re-read whenever its modification time
/// or size changes (Secrets are rotated by swapping the file).
pub(crate) struct TokenFile {
    /// The variable that names the file, for messages.
    setting: &'static str,
    path: PathBuf,
    cache: Mutex<Option<(Option<SystemTime>, u64, String)>>,
}

impl TokenFile {
    fn token(&self) -> Result<String, PushError> {
        let problem = |what: String| PushError::InvalidConfig {
            setting: self.setting,
            reason: format!("{} {what}", self.path.display()),
        };
        // Opened without blocking and checked on the handle (a FIFO, a device or a file over
        // 1 MiB is refused), at start-up and at every re-read alike.
        let file = UserFile::open(self.setting, &self.path)?;
        let stamp = file.stamp();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((modified, len, token)) = cache.as_ref()
            && (*modified, *len) == stamp
        {
            return Ok(token.clone());
        }
        let text = String::from_utf8(file.read()?)
            .map_err(|_| problem("cannot be read (it is not UTF-8 text)".into()))?;
        let token = text.trim().to_owned();
        if token.is_empty() {
            return Err(problem("is empty".into()));
        }
        // A token goes into an HTTP header: a line break or a space inside it (two tokens in
        // one file, a Windows line ending mid-file) would fail every push with an error that
        // names no setting. The token itself is never shown.
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(problem(
                "holds a token with spaces, line breaks or non-ASCII characters inside; a bearer token is one line of visible ASCII".into(),
            ));
        }
        *cache = Some((stamp.0, stamp.1, token.clone()));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header_and_redacted_debug() {
        let auth = Auth::basic("batch", "s3cret");
        assert_eq!(
            auth.header().unwrap().as_deref(),
            Some("Basic YmF0Y2g6czNjcmV0")
        );
        assert!(!format!("{auth:?}").contains("s3cret"));
        assert!(!format!("{auth:?}").contains("YmF0Y2g6czNjcmV0"));
    }

    #[test]
    fn token_file_is_read_trimmed_and_reread_when_it_changes() {
        let path = std::env::temp_dir().join(format!("pushtimer-token-{}", std::process::id()));
        std::fs::write(&path, "first\n").unwrap();
        let auth = Auth::bearer_file(&path, crate::settings::env::BEARER_TOKEN_FILE).unwrap();
        assert_eq!(auth.header().unwrap().as_deref(), Some("Bearer first"));
        std::fs::write(&path, "second-token\n").unwrap();
        assert_eq!(
            auth.header().unwrap().as_deref(),
            Some("Bearer second-token")
        );
        std::fs::remove_file(&path).unwrap();
        let error = auth.header().unwrap_err();
        assert!(error.to_string().contains("PUSHGATEWAY_BEARER_TOKEN_FILE"));
        assert!(Auth::bearer_file(&path, crate::settings::env::BEARER_TOKEN_FILE).is_err());
    }

    /// The re-read in a live job goes through the same checks as the first read: a token
    /// file swapped for a FIFO (or a device) is refused at once, never waited on.
    #[cfg(unix)]
    #[test]
    #[allow(unsafe_code)]
    fn a_token_file_swapped_for_a_fifo_is_refused_without_waiting() {
        use std::os::unix::ffi::OsStrExt;
        let path = std::env::temp_dir().join(format!("pushtimer-token3-{}", std::process::id()));
        std::fs::write(&path, "first\n").unwrap();
        let auth = Auth::bearer_file(&path, crate::settings::env::BEARER_TOKEN_FILE).unwrap();
        std::fs::remove_file(&path).unwrap();
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path and a plain mode; mkfifo touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let error = auth.header().unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(error.contains("PUSHGATEWAY_BEARER_TOKEN_FILE"), "{error}");
        assert!(error.contains("a FIFO"), "{error}");
        assert!(!error.contains("first"), "{error}");
    }

    #[test]
    fn a_token_with_an_inner_line_break_is_refused_at_start_up_without_showing_it() {
        let path = std::env::temp_dir().join(format!("pushtimer-token2-{}", std::process::id()));
        for bad in ["abc\ndef\n", "abc def", "abc\r\ndef", "tökén"] {
            std::fs::write(&path, bad).unwrap();
            let error = Auth::bearer_file(&path, crate::settings::env::BEARER_TOKEN_FILE)
                .unwrap_err()
                .to_string();
            assert!(error.contains("PUSHGATEWAY_BEARER_TOKEN_FILE"), "{error}");
            assert!(!error.contains("abc") && !error.contains("def"), "{error}");
        }
        std::fs::write(&path, "\n  abc.DEF_123-~+/=  \r\n").unwrap();
        assert!(Auth::bearer_file(&path, crate::settings::env::BEARER_TOKEN_FILE).is_ok());
        std::fs::remove_file(&path).unwrap();
    }
}

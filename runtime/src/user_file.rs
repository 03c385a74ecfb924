//! Reading a file the user names (a CA, a client certificate or key, a bearer token) without
//! ever blocking or bloating the job.
//!
//! Such a path can name anything: a FIFO (whose `open` waits for a writer forever), a device
//! (`/dev/zero` never ends), a directory, or a file far larger than any certificate. Every file
//! is therefore opened without blocking (`O_NONBLOCK`: a FIFO opens at once), checked to be a
//! regular file on the opened handle (`fstat`, so nothing can be swapped in between the check
//! and the read), and read up to [`MAX_BYTES`] at most. Anything else is refused with an error
//! naming the variable and the path (the path is not a secret; the content may be, and is never
//! shown).
//!
//! A leaf at the top of the crate: TLS files and tokens (`transport/`), the textfile's target
//! (`destinations/textfile/`) and the kernel's pseudo-files of the run's resources
//! (`store/resources.rs`) are all opened and told apart here.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use crate::error::PushError;

/// The most a file the user names may hold: 1 MiB. A PEM bundle of every public root CA is
/// about 250 KiB; a token is a few KiB at most.
pub(crate) const MAX_BYTES: u64 = 1024 * 1024;

/// A regular file, opened without blocking, not yet read.
pub(crate) struct UserFile {
    setting: &'static str,
    file: File,
    metadata: Metadata,
    path_shown: String,
}

impl UserFile {
    /// Opens the file at `path`, named by the variable `setting`, and checks on the opened
    /// handle that it is a regular file of at most [`MAX_BYTES`]. Never blocks.
    pub(crate) fn open(setting: &'static str, path: &Path) -> Result<UserFile, PushError> {
        let path_shown = path.display().to_string();
        let problem = |what: String| problem(setting, &path_shown, &what);
        let file =
            open_without_blocking(path).map_err(|e| problem(format!("cannot be read ({e})")))?;
        let metadata = file
            .metadata()
            .map_err(|e| problem(format!("cannot be read ({e})")))?;
        if !metadata.is_file() {
            return Err(problem(format!(
                "is {}, not a regular file; it is not read",
                kind(&metadata)
            )));
        }
        if metadata.len() > MAX_BYTES {
            return Err(too_large(setting, &path_shown));
        }
        Ok(UserFile {
            setting,
            file,
            metadata,
            path_shown,
        })
    }

    /// The modification time (when the platform has one) and the size, from the opened handle.
    pub(crate) fn stamp(&self) -> (Option<SystemTime>, u64) {
        (self.metadata.modified().ok(), self.metadata.len())
    }

    /// The whole content, at most [`MAX_BYTES`]: a file that grew past the cap since it was
    /// opened is refused, not cut.
    pub(crate) fn read(self) -> Result<Vec<u8>, PushError> {
        let capacity = usize::try_from(self.metadata.len().min(MAX_BYTES)).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        self.file
            .take(MAX_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| {
                problem(
                    self.setting,
                    &self.path_shown,
                    &format!("cannot be read ({e})"),
                )
            })?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_BYTES {
            return Err(too_large(self.setting, &self.path_shown));
        }
        Ok(bytes)
    }
}

/// The content of the regular file at `path` (named by `setting`), at most [`MAX_BYTES`];
/// anything else is refused, without blocking.
pub(crate) fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, PushError> {
    UserFile::open(setting, path)?.read()
}

/// Opens `path` for reading without ever waiting: a FIFO opens at once (and is then told
/// apart from a regular file by the handle's metadata), a terminal does not become the
/// controlling one.
#[cfg(unix)]
pub(crate) fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (the handle is then
    // refused as not a regular file); on a regular file it changes nothing. O_NOCTTY: a
    // terminal named by mistake does not become the job's controlling terminal.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    // No FIFOs that block on open here; the handle is still checked to be a regular file.
    File::open(path)
}

/// What a file that is not a regular file is, in words.
pub(crate) fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

fn too_large(setting: &'static str, path: &str) -> PushError {
    problem(
        setting,
        path,
        "is larger than 1 MiB, the most a certificate, key or token file may hold; it is not read",
    )
}

fn problem(setting: &'static str, path: &str, what: &str) -> PushError {
    PushError::InvalidConfig {
        setting,
        reason: format!("{path} {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::env;
    use std::path::PathBuf;

    /// A fresh directory of this test's own, removed at the end.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir()
                .join(format!("pushtimer-user-file-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn refusal(path: &Path) -> String {
        match read(env::CA_FILE, path) {
            Ok(bytes) => panic!("{} was read ({} bytes)", path.display(), bytes.len()),
            Err(error) => error.to_string(),
        }
    }

    fn assert_names(error: &str, path: &Path, what: &str) {
        assert!(error.contains(env::CA_FILE), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(what), "{error}");
    }

    #[test]
    fn a_regular_file_is_read_whole() {
        let dir = Dir::new("regular");
        let path = dir.0.join("ca.pem");
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n").unwrap();
        assert_eq!(
            read(env::CA_FILE, &path).unwrap(),
            b"-----BEGIN CERTIFICATE-----\n"
        );
        let limit = usize::try_from(MAX_BYTES).unwrap();
        std::fs::write(&path, vec![b'a'; limit]).unwrap();
        assert_eq!(read(env::CA_FILE, &path).unwrap().len(), limit);
    }

    #[cfg(unix)]
    #[test]
    #[allow(unsafe_code)]
    fn a_fifo_is_refused_at_once_without_waiting_for_a_writer() {
        use std::os::unix::ffi::OsStrExt;
        let dir = Dir::new("fifo");
        let path = dir.0.join("ca.pem");
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path and a plain mode; mkfifo touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // Without O_NONBLOCK this open would wait forever (no writer ever comes).
        assert_names(&refusal(&path), &path, "a FIFO");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_refused_unread() {
        let path = Path::new("/dev/zero");
        assert_names(&refusal(path), path, "a device");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = Dir::new("directory");
        assert_names(&refusal(&dir.0), &dir.0, "a directory");
    }

    #[test]
    fn a_file_above_the_cap_is_refused_unread() {
        let dir = Dir::new("large");
        let path = dir.0.join("token");
        let file = File::create(&path).unwrap();
        // Sparse: a size past the cap without writing it.
        file.set_len(MAX_BYTES + 1).unwrap();
        assert_names(&refusal(&path), &path, "larger than 1 MiB");
    }

    #[test]
    fn a_missing_file_names_the_variable_and_the_path() {
        let dir = Dir::new("missing");
        let path = dir.0.join("nowhere.pem");
        assert_names(&refusal(&path), &path, "cannot be read");
    }
}

//! Writing a file atomically: a temporary file in the same directory, created exclusively,
//! written, then renamed over the target, never opening the target itself.

use super::*;

/// A temporary file being written: removed unless it was renamed over its target.
pub(super) struct Temp {
    pub(super) path: PathBuf,
    file: Option<File>,
}

impl Temp {
    /// A new file in `dir`, named after `target_name` but hidden and not `*.prom` (the
    /// collector reads only those), created exclusively (never an existing file, nor what a
    /// symbolic link points to), readable by the node exporter whatever the job's umask.
    pub(super) fn create(dir: &Path, target_name: &OsString) -> std::io::Result<Temp> {
        let shown: String = target_name
            .to_string_lossy()
            .chars()
            .scan(0usize, |bytes, c| {
                *bytes = bytes.saturating_add(c.len_utf8());
                (*bytes <= 100).then_some(c)
            })
            .collect();
        let mut last_error = None;
        for _ in 0..TEMP_ATTEMPTS {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{shown}.{}.{n}.tmp", std::process::id()));
            match create_new(&path) {
                Ok(file) => {
                    return Ok(Temp {
                        path,
                        file: Some(file),
                    });
                }
                // Left by an earlier process that had this pid: the next name.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| ErrorKind::AlreadyExists.into()))
    }

    /// Closes and removes the file.
    pub(super) fn discard(mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
pub(super) fn create_new(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    // The umask may have taken the others' read bit: the node exporter runs as a user of its
    // own and must read the file. Set on the handle, so the path cannot be swapped meanwhile;
    // a file system without modes (vfat, some network shares) refuses, and the file is still
    // written.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
    Ok(file)
}

#[cfg(not(unix))]
pub(super) fn create_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Writes `bytes` to `target` atomically: a temporary file beside it, written (and synced
/// when `sync`), then renamed over it. The target is only `stat`ed, never opened; one that is
/// not a regular file (a directory, a FIFO, a device) is not replaced. The temporary file is
/// removed on any failure.
pub(super) fn write_atomically(target: &Path, bytes: &[u8], sync: bool) -> Result<(), PushError> {
    let failed = |what: String, e: std::io::Error| PushError::Transport {
        reason: format!("cannot {what}: {e}"),
    };
    if let Ok(metadata) = std::fs::metadata(target)
        && !metadata.is_file()
    {
        return Err(PushError::Transport {
            reason: format!(
                "{} is {}, not a regular file; it is not replaced",
                target.display(),
                kind(&metadata)
            ),
        });
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().map(OsString::from).unwrap_or_default();
    let mut temp = Temp::create(dir, &name)
        .map_err(|e| failed(format!("create a temporary file in {}", dir.display()), e))?;
    let written = match temp.file.as_mut() {
        Some(file) => file
            .write_all(bytes)
            .and_then(|()| if sync { file.sync_all() } else { Ok(()) }),
        None => Ok(()),
    };
    written.map_err(|e| failed(format!("write {}", temp.path.display()), e))?;
    // Closed before the rename: the collector may read it the moment it is renamed.
    temp.file = None;
    let renamed = std::fs::rename(&temp.path, target);
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(&temp.path);
        return Err(failed(
            format!("rename {} to {}", temp.path.display(), target.display()),
            e,
        ));
    }
    Ok(())
}

//! What this run's process has used of the machine so far: its peak resident memory, its CPU
//! time, the memory limit it runs under, and the bytes it made storage read and write. Read
//! when the job's gauges are rendered (a push round, `render()`, the final push), never on a
//! timed call.
//!
//! Everything comes from the kernel: pseudo-files (`/proc/self/status`, `/proc/self/io`,
//! `/proc/self/cgroup`, the cgroup's `memory.max` or `memory.limit_in_bytes`), each opened
//! without blocking, checked to be a regular file and read up to [`MAX_BYTES`], and
//! `getrusage(RUSAGE_SELF)`. A value that cannot be read, or reads as anything unexpected, is
//! absent: nothing here fails, panics or waits.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most a pseudo-file is read: 64 KiB. `/proc/self/status` is about 1.5 KiB; a file
/// longer than this is not the file expected, and counts as unreadable.
const MAX_BYTES: u64 = 64 * 1024;

/// A limit at or above 2^62 bytes (4 EiB) is no limit: cgroup v1 shows "unlimited" as the
/// largest page-aligned `i64` (9223372036854771712 with 4 KiB pages, less with larger pages).
const UNLIMITED: u64 = 1 << 62;

/// What the process has used so far; `None` for what cannot be read here.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Resources {
    /// Peak resident set size, in bytes.
    pub(crate) max_resident_bytes: Option<u64>,
    /// CPU time, in seconds.
    pub(crate) cpu: Option<Cpu>,
    /// The memory limit of the process's cgroup, in bytes; `None` when there is none.
    pub(crate) memory_limit_bytes: Option<u64>,
    /// Bytes read from storage (`read_bytes`).
    pub(crate) io_read_bytes: Option<u64>,
    /// Bytes written to storage (`write_bytes`).
    pub(crate) io_write_bytes: Option<u64>,
}

/// CPU time used, in seconds, every thread of the process together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cpu {
    pub(crate) user: f64,
    pub(crate) system: f64,
}

impl Resources {
    /// This process's, now.
    pub(crate) fn read() -> Resources {
        let usage = rusage::of_self();
        let (io_read_bytes, io_write_bytes) = io();
        Resources {
            max_resident_bytes: peak_from_proc().or(usage.and_then(|usage| usage.max_rss_bytes)),
            cpu: usage.map(|usage| usage.cpu),
            memory_limit_bytes: memory_limit(),
            io_read_bytes,
            io_write_bytes,
        }
    }
}

/// The content of the pseudo-file at `path`, at most [`MAX_BYTES`], as text (a byte that is
/// not UTF-8, as a process name may hold, becomes U+FFFD); `None` for anything else.
fn read_bounded(path: &Path) -> Option<String> {
    let file = crate::user_file::open_without_blocking(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_BYTES {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The peak resident set size from `/proc/self/status` (`VmHWM`), on Linux.
fn peak_from_proc() -> Option<u64> {
    if cfg!(target_os = "linux") {
        vm_hwm(&read_bounded(Path::new("/proc/self/status"))?)
    } else {
        None
    }
}

/// `read_bytes` and `write_bytes` of `/proc/self/io`, on Linux.
fn io() -> (Option<u64>, Option<u64>) {
    let text = if cfg!(target_os = "linux") {
        read_bounded(Path::new("/proc/self/io"))
    } else {
        None
    };
    match text {
        Some(text) => (field(&text, "read_bytes"), field(&text, "write_bytes")),
        None => (None, None),
    }
}

/// The memory limit of this process's cgroup, on Linux.
fn memory_limit() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let cgroup = read_bounded(Path::new("/proc/self/cgroup"))?;
    // The first file that can be read decides, "no limit" included.
    limit_files(&cgroup, Path::new("/sys/fs/cgroup"))
        .into_iter()
        .find_map(|path| read_bounded(&path))
        .and_then(|text| limit(&text))
}

/// `VmHWM` of a `/proc/<pid>/status` text, in bytes (the kernel writes kB, meaning KiB).
fn vm_hwm(status: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim_end().parse().ok()?;
    kib.checked_mul(1024)
}

/// The value of `name: <n>` in a `/proc/<pid>/io` text.
fn field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}

/// The files that may hold this process's memory limit, best first, from its
/// `/proc/self/cgroup` and the cgroup mount `root`:
///
/// - cgroup v1, where a hierarchy has the `memory` controller (`4:memory:/path`):
///   `<root>/memory/path/memory.limit_in_bytes`, then the same at the mount's own root (in a
///   container without a cgroup namespace the mount shows the container's cgroup there, not
///   `path`);
/// - else cgroup v2 (`0::/path`): `<root>/path/memory.max`, then `<root>/memory.max`.
///
/// A path that is not absolute or climbs (`..`: a cgroup outside this cgroup namespace) names
/// nothing that can be read: no files.
fn limit_files(cgroup: &str, root: &Path) -> Vec<PathBuf> {
    let mut v1 = None;
    let mut v2 = None;
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers.split(',').any(|name| name == "memory") {
            v1 = Some(path);
        }
    }
    let (base, file, path) = match (v1, v2) {
        (Some(path), _) => (root.join("memory"), "memory.limit_in_bytes", path),
        (None, Some(path)) => (root.to_path_buf(), "memory.max", path),
        (None, None) => return Vec::new(),
    };
    let Some(relative) = path.strip_prefix('/') else {
        return Vec::new();
    };
    if relative.split('/').any(|part| part == "..") {
        return Vec::new();
    }
    let own = if relative.is_empty() {
        base.join(file)
    } else {
        base.join(relative).join(file)
    };
    let mount_root = base.join(file);
    if own == mount_root {
        vec![own]
    } else {
        vec![own, mount_root]
    }
}

/// A limit as `memory.max` or `memory.limit_in_bytes` writes it, in bytes: `max`, or a value
/// so large it means none, is no limit.
fn limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < UNLIMITED).then_some(value)
}

/// `getrusage(RUSAGE_SELF)`: the one call here that needs `unsafe`.
#[cfg(unix)]
#[allow(unsafe_code)]
mod rusage {
    use super::Cpu;

    /// What `getrusage` tells.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Usage {
        pub(super) cpu: Cpu,
        /// `ru_maxrss`, in bytes; `None` when the system gives 0 (does not keep it).
        pub(super) max_rss_bytes: Option<u64>,
    }

    /// This process's usage, every thread together; `None` if the call fails.
    pub(super) fn of_self() -> Option<Usage> {
        // SAFETY: `rusage` is a plain C struct of integers (and of `timeval`s of integers), for
        // which all zero bits are a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable `rusage` owned here, which is all getrusage
        // writes to; RUSAGE_SELF is a valid `who`. The call has no other effect.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return None;
        }
        Some(Usage {
            cpu: Cpu {
                user: seconds(usage.ru_utime)?,
                system: seconds(usage.ru_stime)?,
            },
            max_rss_bytes: max_rss_bytes(usage.ru_maxrss),
        })
    }

    /// A `timeval` in seconds; `None` if it is negative (never, from getrusage).
    fn seconds(time: libc::timeval) -> Option<f64> {
        if time.tv_sec < 0 || !(0..1_000_000).contains(&time.tv_usec) {
            return None;
        }
        // Exact to the microsecond below 2^33 s (272 years of CPU).
        Some(time.tv_sec as f64 + time.tv_usec as f64 / 1e6)
    }

    /// `ru_maxrss` in bytes: macOS (and its siblings) give bytes, Linux and the BSDs KiB.
    pub(super) fn max_rss_bytes(max_rss: libc::c_long) -> Option<u64> {
        let value = u64::try_from(max_rss).ok().filter(|value| *value > 0)?;
        if cfg!(target_vendor = "apple") {
            Some(value)
        } else {
            value.checked_mul(1024)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The process's own CPU time grows with work, never runs backwards; its peak RSS is
        /// at least the memory it just touched.
        #[test]
        fn getrusage_tells_cpu_time_and_peak_rss() {
            let before = of_self().expect("getrusage works on unix");
            let mut x = 0u64;
            let started = std::time::Instant::now();
            while started.elapsed() < std::time::Duration::from_millis(50) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            let touched = vec![1u8; 32 << 20];
            std::hint::black_box(&touched);
            let after = of_self().expect("getrusage works on unix");
            assert!(after.cpu.user > before.cpu.user, "{before:?} {after:?}");
            assert!(after.cpu.user + after.cpu.system < 3600.0, "{after:?}");
            assert!(
                after.cpu.system >= before.cpu.system,
                "{before:?} {after:?}"
            );
            let peak = after.max_rss_bytes.expect("a peak RSS");
            assert!(peak >= 32 << 20, "{peak}");
            assert!(peak < 1 << 40, "{peak}");
        }

        #[test]
        fn ru_maxrss_units_and_nonsense() {
            let kib = if cfg!(target_vendor = "apple") {
                1
            } else {
                1024
            };
            assert_eq!(max_rss_bytes(2048), Some(2048 * kib));
            assert_eq!(max_rss_bytes(0), None);
            assert_eq!(max_rss_bytes(-1), None);
            if kib == 1024 && libc::c_long::BITS == 64 {
                assert_eq!(max_rss_bytes(libc::c_long::MAX), None, "overflow");
            }
        }
    }
}

/// No `getrusage` here.
#[cfg(not(unix))]
mod rusage {
    /// What `getrusage` would tell.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Usage {
        pub(super) cpu: super::Cpu,
        pub(super) max_rss_bytes: Option<u64>,
    }

    /// Never anything.
    pub(super) fn of_self() -> Option<Usage> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tnightly_etl\nUmask:\t0022\nState:\tR (running)\n\
        VmPeak:\t  123456 kB\nVmSize:\t  120000 kB\nVmHWM:\t    2080 kB\nVmRSS:\t    2000 kB\n\
        Threads:\t3\n";

    #[test]
    fn vm_hwm_is_read_in_kib() {
        assert_eq!(vm_hwm(STATUS), Some(2080 * 1024));
        assert_eq!(vm_hwm("VmHWM: 0 kB"), Some(0));
    }

    #[test]
    fn a_malformed_or_missing_vm_hwm_is_absent() {
        for status in [
            "",
            "Name:\tx\nVmRSS:\t2000 kB\n",
            "VmHWM:\t2080\n",
            "VmHWM:\t2080 MB\n",
            "VmHWM:\t-5 kB\n",
            "VmHWM:\t20x0 kB\n",
            "VmHWM:\t kB\n",
            "VmHWM:\t99999999999999999999 kB\n",
            // Overflows u64 once in bytes.
            "VmHWM:\t18446744073709551615 kB\n",
            " VmHWM:\t2080 kB\n",
        ] {
            assert_eq!(vm_hwm(status), None, "{status:?}");
        }
    }

    #[test]
    fn io_fields_are_read_by_exact_name() {
        let io = "rchar: 6976\nwchar: 12\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\n\
                  write_bytes: 8192\ncancelled_write_bytes: 100\n";
        assert_eq!(field(io, "read_bytes"), Some(4096));
        assert_eq!(field(io, "write_bytes"), Some(8192));
        // `cancelled_write_bytes` first is not `write_bytes`.
        assert_eq!(
            field("cancelled_write_bytes: 5\nwrite_bytes: 7\n", "write_bytes"),
            Some(7)
        );
        for io in [
            "",
            "write_bytes: x\n",
            "write_bytes 7\n",
            "write_bytes: -7\n",
        ] {
            assert_eq!(field(io, "write_bytes"), None, "{io:?}");
        }
    }

    fn files(cgroup: &str) -> Vec<String> {
        limit_files(cgroup, Path::new("/sys/fs/cgroup"))
            .iter()
            .map(|path| path.display().to_string())
            .collect()
    }

    #[test]
    fn cgroup_v2_own_cgroup_then_the_mount_root() {
        assert_eq!(
            files("0::/kubepods.slice/pod1/cri-containerd-ab.scope\n"),
            [
                "/sys/fs/cgroup/kubepods.slice/pod1/cri-containerd-ab.scope/memory.max",
                "/sys/fs/cgroup/memory.max",
            ]
        );
        // In a cgroup namespace the process's cgroup is the root.
        assert_eq!(files("0::/\n"), ["/sys/fs/cgroup/memory.max"]);
    }

    /// With a v1 `memory` hierarchy (v1 alone, or beside v2: hybrid), v1 holds the limit.
    #[test]
    fn cgroup_v1_memory_hierarchy_wins() {
        let hybrid = "12:pids:/user.slice\n5:cpu,cpuacct:/user.slice\n\
                      4:memory:/process_api/6281b3\n1:name=systemd:/user.slice\n0::/\n";
        assert_eq!(
            files(hybrid),
            [
                "/sys/fs/cgroup/memory/process_api/6281b3/memory.limit_in_bytes",
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            ]
        );
        assert_eq!(
            files("3:cpuacct,memory:/\n"),
            ["/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        );
    }

    #[test]
    fn malformed_or_foreign_cgroups_name_no_file() {
        for cgroup in [
            "",
            "garbage\n",
            "0:/x\n",
            // Outside this cgroup namespace.
            "0::/../../system.slice\n",
            "4:memory:/a/../b\n",
            "0::relative\n",
            "4:cpu:/only-cpu\n",
        ] {
            assert!(files(cgroup).is_empty(), "{cgroup:?}: {:?}", files(cgroup));
        }
    }

    #[test]
    fn limits_max_and_huge_are_no_limit() {
        assert_eq!(limit("536870912\n"), Some(536_870_912));
        assert_eq!(limit("0\n"), Some(0));
        for text in [
            "max\n",
            // cgroup v1 "unlimited", with 4 KiB and 64 KiB pages.
            "9223372036854771712\n",
            "9223372036854710272\n",
            "18446744073709551615\n",
            "",
            "-1\n",
            "12M\n",
            "1 2\n",
        ] {
            assert_eq!(limit(text), None, "{text:?}");
        }
    }

    /// A file is read whole up to the bound; a longer one, a directory, a FIFO or a missing
    /// file is nothing, at once; bytes that are not UTF-8 (a process name) spoil nothing else.
    #[test]
    fn pseudo_files_are_read_bounded_and_never_block() {
        let dir = std::env::temp_dir().join(format!("pushtimer-resources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let status = dir.join("status");
        let mut bytes = b"Name:\t\xff\xfejob\n".to_vec();
        bytes.extend_from_slice(b"VmHWM:\t  4096 kB\n");
        std::fs::write(&status, &bytes).expect("written");
        let text = read_bounded(&status).expect("readable");
        assert_eq!(vm_hwm(&text), Some(4096 * 1024));

        let large = dir.join("large");
        let exactly = usize::try_from(MAX_BYTES).expect("64 KiB");
        std::fs::write(&large, vec![b'x'; exactly]).expect("written");
        assert_eq!(read_bounded(&large).map(|text| text.len()), Some(exactly));
        std::fs::write(&large, vec![b'x'; exactly + 1]).expect("written");
        assert_eq!(read_bounded(&large), None);

        assert_eq!(read_bounded(&dir), None);
        assert_eq!(read_bounded(&dir.join("missing")), None);
        #[cfg(unix)]
        {
            let fifo = dir.join("fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|status| status.success());
            if made {
                assert_eq!(read_bounded(&fifo), None);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// On Linux, this process's own files are read: a peak, I/O counts when the kernel keeps
    /// them; the limit is what the cgroup's file says.
    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_on_linux() {
        let read = Resources::read();
        let peak = read.max_resident_bytes.expect("VmHWM or ru_maxrss");
        assert!(peak > 1 << 20 && peak < 1 << 40, "{peak}");
        let cpu = read.cpu.expect("getrusage");
        assert!(cpu.user >= 0.0 && cpu.system >= 0.0, "{cpu:?}");
        if read_bounded(Path::new("/proc/self/io")).is_some() {
            assert!(
                read.io_read_bytes.is_some() && read.io_write_bytes.is_some(),
                "{read:?}"
            );
        }
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let expected = limit_files(&cgroup, Path::new("/sys/fs/cgroup"))
            .into_iter()
            .find_map(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| limit(&text));
        assert_eq!(read.memory_limit_bytes, expected);
    }
}

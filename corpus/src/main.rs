//! The corpus suite: `#[pushtimer::timed]` on every function of real crates, whose own test
//! suites must pass as they do without it.
//!
//! For each crate of [`crates::CORPUS`]: fetch its published source from crates.io at its exact
//! version, copy it twice under `target/corpus/`, rewrite every function with a body in both
//! copies (the control with an attribute that expands to nothing, the other with
//! `#[pushtimer::timed]`), and run `cargo test` on each. The control must pass, the timed copy
//! must pass too, and it must not add a compiler warning. See `corpus/README.md`.

mod cargo;
mod crates;
mod fetch;
mod rewrite;
mod scratch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cargo::{Cargo, Diagnostic, Output, TestCounts};
use crates::{CORPUS, Crate};
use rewrite::Mode;

/// How many distinct errors or failure lines a report shows for one run.
const SHOWN: usize = 5;

/// The command-line usage.
const USAGE: &str = "\
usage: pushtimer-corpus [--timeout SECONDS] [CRATE...]   run the corpus (all crates, or those named)
       pushtimer-corpus --list                           list the crates, versions and why each is here
       pushtimer-corpus rewrite [--control] FILE         print FILE as the corpus rewrites it

Fetches each crate from crates.io, rewrites it under target/corpus/ and runs `cargo test` on a
control copy and a #[pushtimer::timed] copy. Exits non-zero if a run fails or the timed copy has
more warnings. If crates.io cannot be reached it says so and exits 0, unless
PUSHTIMER_REQUIRE_PUSHGATEWAY=1.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--help" | "-h") => {
            println!("{USAGE}");
            Ok(true)
        }
        Some("--list") => {
            list();
            Ok(true)
        }
        Some("rewrite") => rewrite_command(&args[1..]),
        _ => parse_run(&args).and_then(|(timeout, names)| run(timeout, &names)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("corpus: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the corpus table.
fn list() {
    for krate in CORPUS {
        println!("{:<12} {:<8} {}", krate.name, krate.version, krate.shape);
    }
}

/// `rewrite [--control] FILE`: prints the file rewritten, and the count on stderr.
fn rewrite_command(args: &[String]) -> Result<bool, String> {
    let (mode, file) = match args {
        [flag, file] if flag == "--control" => (Mode::Control, file),
        [file] => (Mode::Timed, file),
        _ => return Err(format!("bad arguments\n{USAGE}")),
    };
    let source = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let rewritten = rewrite::rewrite(&source, mode).map_err(|e| format!("{file}: {e}"))?;
    print!("{}", rewritten.text);
    eprintln!("{file}: {} functions", rewritten.functions);
    Ok(true)
}

/// Reads `[--timeout SECONDS] [CRATE...]`.
fn parse_run(args: &[String]) -> Result<(Duration, Vec<String>), String> {
    let mut timeout = Duration::from_secs(900);
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--timeout" {
            let seconds = args.next().and_then(|s| s.parse::<u64>().ok());
            timeout = Duration::from_secs(seconds.ok_or("--timeout needs a number of seconds")?);
        } else if arg.starts_with('-') {
            return Err(format!("unknown option {arg}\n{USAGE}"));
        } else {
            names.push(arg.clone());
        }
    }
    Ok((timeout, names))
}

/// The repository's root: the parent of this crate's directory.
fn repository() -> PathBuf {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"));
    corpus.parent().unwrap_or(corpus).to_path_buf()
}

/// Runs the corpus, or the crates of it named in `names`. `Ok(false)` when anything failed.
fn run(timeout: Duration, names: &[String]) -> Result<bool, String> {
    let started = Instant::now();
    let selected: Vec<&Crate> = if names.is_empty() {
        CORPUS.iter().collect()
    } else {
        names
            .iter()
            .map(|name| {
                CORPUS
                    .iter()
                    .find(|krate| krate.name == name)
                    .ok_or_else(|| format!("{name} is not in the corpus (see --list)"))
            })
            .collect::<Result<_, _>>()?
    };
    let repository = repository();
    let work = repository.join("target/corpus");
    let cargo = Cargo {
        target_dir: work.join("target"),
        log_dir: work.join("logs"),
        timeout,
    };
    let rustc_version = rustc_version()?;

    let sources = match fetch::fetch(&cargo, &selected, &work.join("fetch"))? {
        fetch::Fetched::Sources(sources) => sources,
        fetch::Fetched::Unreachable(reason) => {
            if std::env::var_os("PUSHTIMER_REQUIRE_PUSHGATEWAY").is_some_and(|v| v == "1") {
                println!(
                    "corpus: FAILED: crates.io cannot be reached, and PUSHTIMER_REQUIRE_PUSHGATEWAY=1 requires it: {reason}"
                );
                return Ok(false);
            }
            println!("corpus: skipped: crates.io cannot be reached: {reason}");
            return Ok(true);
        }
    };

    println!(
        "corpus: {} crates, rustc {rustc_version}; scratch copies in {}, cargo logs in {}",
        selected.len(),
        work.display(),
        cargo.log_dir.display()
    );

    let runtime = repository.join("runtime");
    let mut reports = Vec::new();
    for (index, krate) in selected.iter().enumerate() {
        let source = &sources[krate.name];
        println!(
            "\n[{}/{}] {} {} (edition {}{}): {}",
            index + 1,
            selected.len(),
            krate.name,
            krate.version,
            source.edition,
            if source.proc_macro {
                ", proc-macro: tests/ only"
            } else {
                ""
            },
            krate.shape
        );
        let setup = scratch::Setup {
            runtime: &runtime,
            rustc_version: &rustc_version,
            proc_macro: source.proc_macro,
            skip: krate.skip,
        };
        let report = run_crate(&cargo, krate, &source.dir, &work, &setup);
        reports.push(report);
    }
    let passed = summary(&reports);
    println!(
        "corpus: total wall time {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(passed)
}

/// `1.95.0` out of `rustc --version`.
fn rustc_version() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map_err(|e| format!("running rustc --version: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .map(|version| version.split('-').next().unwrap_or(version).to_owned())
        .ok_or_else(|| format!("unexpected rustc --version output: {text}"))
}

/// What happened to one copy (control or timed) of a crate.
#[derive(Debug, Default)]
struct RunReport {
    /// The test build (`cargo test --no-run`) succeeded.
    built: bool,
    /// `cargo test` ran and succeeded.
    tested: bool,
    /// The test counts of `cargo test`.
    counts: TestCounts,
    /// The crate's own warnings in the test build.
    warnings: Vec<Diagnostic>,
    /// The first distinct errors of a failed build, with the package each is in.
    errors: Vec<(String, Diagnostic)>,
    /// Why the build or the tests failed, when no compiler error says it.
    failures: Vec<String>,
    /// The wall time of `cargo test`.
    test_time: Duration,
    /// Whether the copy was built at all.
    ran: bool,
    /// The test executables the build made.
    executables: Vec<String>,
}

impl RunReport {
    /// `ok`, `FAILED (build)` or `FAILED (tests)`.
    fn status(&self) -> &'static str {
        match (self.built, self.tested) {
            (true, true) => "ok",
            (false, _) => "FAILED (build)",
            (true, false) => "FAILED (tests)",
        }
    }

    /// Whether the copy built and its tests passed.
    fn passed(&self) -> bool {
        self.built && self.tested
    }
}

/// The result of one crate.
#[derive(Debug)]
struct CrateReport {
    /// The crate's name.
    name: &'static str,
    /// Its version.
    version: &'static str,
    /// Functions rewritten.
    functions: usize,
    /// The control copy.
    control: RunReport,
    /// The timed copy.
    timed: RunReport,
    /// Warnings of the timed copy that the control does not have.
    added_warnings: Vec<Diagnostic>,
    /// Why the crate could not be set up, if it could not.
    setup_error: Option<String>,
}

impl CrateReport {
    /// Whether both copies passed and the timed one added no warning.
    fn passed(&self) -> bool {
        self.setup_error.is_none()
            && self.control.passed()
            && self.timed.passed()
            && self.added_warnings.is_empty()
    }
}

/// Prepares, builds and tests both copies of one crate.
fn run_crate(
    cargo: &Cargo,
    krate: &Crate,
    source: &Path,
    work: &Path,
    setup: &scratch::Setup<'_>,
) -> CrateReport {
    let mut report = CrateReport {
        name: krate.name,
        version: krate.version,
        functions: 0,
        control: RunReport::default(),
        timed: RunReport::default(),
        added_warnings: Vec::new(),
        setup_error: None,
    };
    let dir = |mode: Mode| work.join(format!("{}-{}", krate.name, mode.name()));
    if let Err(error) = set_up(cargo, krate, source, setup, &dir, &mut report) {
        println!("  setup FAILED: {error}");
        report.setup_error = Some(error);
        return report;
    }
    for mode in [Mode::Control, Mode::Timed] {
        // The timed tests get ten times the control's test time, at least five minutes (a
        // debug build timing every call of 1,328 tests took 3.3 times as long, on a loaded
        // machine): a deadlock (e.g. in a timed global allocator) then costs minutes, not the
        // whole timeout, and a slow CI machine is not a failure.
        let test_timeout = match mode {
            Mode::Control => cargo.timeout,
            Mode::Timed => (report.control.test_time * 10)
                .max(Duration::from_secs(300))
                .min(cargo.timeout),
        };
        let result = run_copy(cargo, krate, &dir(mode), mode, test_timeout);
        match result {
            Ok(run) => match mode {
                Mode::Control => report.control = run,
                Mode::Timed => report.timed = run,
            },
            Err(error) => {
                println!("  {}: FAILED to run cargo: {error}", mode.name());
                report.setup_error = Some(error);
                return report;
            }
        }
    }
    // Guards the marker features: were the copies to share artifacts, the timed run would test
    // the control's build and prove nothing.
    let shared = report
        .timed
        .executables
        .iter()
        .find(|path| report.control.executables.contains(path));
    if let Some(path) = shared {
        let error = format!("the control and timed builds share the artifact {path}");
        println!("  FAILED: {error}");
        report.setup_error = Some(error);
    }
    report.added_warnings = added(&report.control.warnings, &report.timed.warnings);
    println!(
        "  warnings of {} itself: control {}, timed {}{}",
        krate.name,
        report.control.warnings.len(),
        report.timed.warnings.len(),
        if report.added_warnings.is_empty() {
            ""
        } else {
            ": the timed copy adds"
        }
    );
    for warning in report.added_warnings.iter().take(SHOWN) {
        print_diagnostic("    ", None, warning);
    }
    report
}

/// Writes both scratch copies and their shared lockfile.
fn set_up(
    cargo: &Cargo,
    krate: &Crate,
    source: &Path,
    setup: &scratch::Setup<'_>,
    dir: &dyn Fn(Mode) -> PathBuf,
    report: &mut CrateReport,
) -> Result<(), String> {
    let mut counts = Vec::new();
    for mode in [Mode::Control, Mode::Timed] {
        let prepared = scratch::prepare(source, &dir(mode), mode, setup).map_err(|e| {
            format!(
                "copying {} to {}: {e}",
                source.display(),
                dir(mode).display()
            )
        })?;
        counts.push(prepared.functions);
        if mode == Mode::Timed {
            println!(
                "  rewritten: {} functions in {} files",
                prepared.functions, prepared.files
            );
            for target in &prepared.dropped_targets {
                println!(
                    "  dropped from the manifest, as the package does not ship its file: {target}"
                );
            }
            for (file, why) in &prepared.unparsed {
                println!(
                    "  not parsed by syn, copied unchanged: {} ({why})",
                    file.display()
                );
            }
        }
    }
    if counts[0] != counts[1] {
        return Err(format!(
            "the control has {} functions and the timed copy {}",
            counts[0], counts[1]
        ));
    }
    report.functions = counts[1];

    // One lockfile for both copies, resolved in the control's directory and copied over.
    let control = dir(Mode::Control);
    let log = format!("{}-lock", krate.name);
    let lock = cargo
        .run(&control, ["generate-lockfile"], &log)
        .map_err(|e| e.to_string())?;
    if !lock.success {
        return Err(format!("cargo generate-lockfile: {}", lock.error_line()));
    }
    for (package, version) in krate.pins {
        let pin = cargo
            .run(
                &control,
                ["update", "--package", package, "--precise", version],
                &log,
            )
            .map_err(|e| e.to_string())?;
        if !pin.success {
            return Err(format!(
                "cargo update --precise {version} for {package}: {}",
                pin.error_line()
            ));
        }
    }
    let lockfile = std::fs::read(control.join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    scratch::write_if_changed(&dir(Mode::Timed).join("Cargo.lock"), &lockfile)
        .map_err(|e| format!("writing Cargo.lock: {e}"))?;
    Ok(())
}

/// Builds and tests one scratch copy.
fn run_copy(
    cargo: &Cargo,
    krate: &Crate,
    dir: &Path,
    mode: Mode,
    test_timeout: Duration,
) -> Result<RunReport, String> {
    let marker = match mode {
        Mode::Control => scratch::CONTROL_FEATURE,
        Mode::Timed => scratch::TIMED_FEATURE,
    };
    let features = krate
        .features
        .iter()
        .copied()
        .chain([marker])
        .collect::<Vec<_>>()
        .join(",");
    let with_features = |args: &[&str]| {
        let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        args.extend(["--features".to_owned(), features.clone()]);
        args
    };
    let log = format!("{}-{}", krate.name, mode.name());
    let package_id = package_id(cargo, dir, &log)?;
    let mut run = RunReport::default();

    let build = cargo
        .run(
            dir,
            with_features(&["test", "--no-run", "--locked", "--message-format=json"]),
            &format!("{log}-build"),
        )
        .map_err(|e| e.to_string())?;
    let diagnostics = cargo::diagnostics(&build.stdout);
    run.warnings = diagnostics
        .iter()
        .filter(|(package, diagnostic)| *package == package_id && diagnostic.level == "warning")
        .map(|(_, diagnostic)| diagnostic.clone())
        .collect();
    run.ran = true;
    run.built = build.success;
    run.executables = cargo::executables(&build.stdout);
    if !build.success {
        run.errors = first_errors(&diagnostics, &package_id);
        if run.errors.is_empty() {
            run.failures = vec![build.error_line()];
        }
        print_run(mode, &run, &build, None);
        return Ok(run);
    }

    let test = cargo
        .run_for(
            dir,
            with_features(&["test", "--locked", "--no-fail-fast"]),
            &format!("{log}-test"),
            test_timeout,
        )
        .map_err(|e| e.to_string())?;
    run.tested = test.success;
    run.test_time = test.elapsed;
    run.counts = cargo::test_counts(&test.stdout);
    if !test.success {
        let both = format!("{}\n{}", test.stdout, test.stderr);
        run.failures = cargo::test_failures(&both, SHOWN);
        if run.failures.is_empty() {
            run.failures = vec![test.error_line()];
        }
        if test.timed_out {
            // Which test binary hung: the last one cargo started.
            if let Some(running) = test
                .stderr
                .lines()
                .rfind(|line| line.trim_start().starts_with("Running"))
            {
                run.failures
                    .push(format!("still running: {}", running.trim()));
            }
        }
    }
    print_run(mode, &run, &build, Some(&test));
    Ok(run)
}

/// The `package_id` cargo gives the scratch copy in `dir`.
fn package_id(cargo: &Cargo, dir: &Path, log: &str) -> Result<String, String> {
    let output = cargo
        .run(
            dir,
            [
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ],
            &format!("{log}-metadata"),
        )
        .map_err(|e| e.to_string())?;
    if !output.success {
        return Err(format!("cargo metadata: {}", output.error_line()));
    }
    let metadata: serde_json::Value = serde_json::from_str(&output.stdout)
        .map_err(|e| format!("cargo metadata's output: {e}"))?;
    metadata["packages"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "cargo metadata lists no package".to_owned())
}

/// The first [`SHOWN`] distinct errors of a build: the crate's own first, then any other
/// package's (e.g. the runtime itself failing to build).
fn first_errors(
    diagnostics: &[(String, Diagnostic)],
    package_id: &str,
) -> Vec<(String, Diagnostic)> {
    let errors = diagnostics
        .iter()
        .filter(|(_, diagnostic)| diagnostic.level == "error");
    let (own, others): (Vec<_>, Vec<_>) = errors.partition(|(package, _)| package == package_id);
    let mut distinct: Vec<(String, Diagnostic)> = Vec::new();
    for (package, diagnostic) in own.into_iter().chain(others) {
        if !distinct
            .iter()
            .any(|(_, seen)| seen.headline() == diagnostic.headline())
        {
            let package = if package == package_id {
                String::new()
            } else {
                package_name(package)
            };
            distinct.push((package, diagnostic.clone()));
        }
        if distinct.len() == SHOWN {
            break;
        }
    }
    distinct
}

/// `pushtimer-macros@0.1.0` out of a package id such as `path+file:///r/macros#pushtimer-macros@0.1.0`.
fn package_name(package_id: &str) -> String {
    package_id
        .rsplit('#')
        .next()
        .unwrap_or(package_id)
        .to_owned()
}

/// The warnings of `timed` that `control` does not have (as many times as they appear more).
fn added(control: &[Diagnostic], timed: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut unmatched: Vec<&Diagnostic> = control.iter().collect();
    let mut added = Vec::new();
    for warning in timed {
        match unmatched.iter().position(|seen| seen.same_as(warning)) {
            Some(at) => {
                unmatched.swap_remove(at);
            }
            None => added.push(warning.clone()),
        }
    }
    added
}

/// Prints the outcome of one copy.
fn print_run(mode: Mode, run: &RunReport, build: &Output, test: Option<&Output>) {
    let mut line = format!(
        "  {:<8} build {} ({:.1} s, {} warnings)",
        format!("{}:", mode.name()),
        if run.built { "ok" } else { "FAILED" },
        build.elapsed.as_secs_f64(),
        run.warnings.len()
    );
    if let Some(test) = test {
        line.push_str(&format!(
            "; tests {} ({} passed, {} failed, {} ignored; {:.1} s)",
            if run.tested { "ok" } else { "FAILED" },
            run.counts.passed,
            run.counts.failed,
            run.counts.ignored,
            test.elapsed.as_secs_f64()
        ));
    }
    println!("{line}");
    for (package, error) in &run.errors {
        print_diagnostic("    ", Some(package), error);
    }
    for failure in &run.failures {
        println!("    {failure}");
    }
}

/// Prints a diagnostic on two lines: its headline (with the package if not the crate's own),
/// then where and the source line.
fn print_diagnostic(indent: &str, package: Option<&str>, diagnostic: &Diagnostic) {
    match package {
        Some(package) if !package.is_empty() => {
            println!("{indent}{} (in {package})", diagnostic.headline())
        }
        _ => println!("{indent}{}", diagnostic.headline()),
    }
    if let Some((file, line)) = &diagnostic.location {
        println!(
            "{indent}    at {file}:{line}: {}",
            diagnostic.source_line.as_deref().unwrap_or("")
        );
    }
}

/// Prints the closing table; true when every crate passed.
fn summary(reports: &[CrateReport]) -> bool {
    println!(
        "\n{:<12} {:<8} {:>5}  {:<20} {:<20} warnings (control/timed)",
        "crate", "version", "fns", "control", "timed"
    );
    let cell = |run: &RunReport| match (run.ran, run.passed()) {
        (false, _) => "not run".to_owned(),
        (true, true) => format!("ok, {} tests", run.counts.passed),
        (true, false) => run.status().to_owned(),
    };
    for report in reports {
        let mut notes = Vec::new();
        if !report.added_warnings.is_empty() {
            notes.push(format!("{} added", report.added_warnings.len()));
        }
        if let Some(error) = &report.setup_error {
            notes.push(format!("FAILED: {error}"));
        }
        println!(
            "{:<12} {:<8} {:>5}  {:<20} {:<20} {}/{}{}",
            report.name,
            report.version,
            report.functions,
            cell(&report.control),
            cell(&report.timed),
            report.control.warnings.len(),
            report.timed.warnings.len(),
            if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            }
        );
    }
    let total: usize = reports.iter().map(|report| report.functions).sum();
    let passed = reports.iter().filter(|report| report.passed()).count();
    let controls_failed = reports
        .iter()
        .filter(|report| !report.control.passed())
        .count();
    println!("total functions rewritten: {total}");
    println!(
        "corpus: {passed} of {} crates pass (control and timed builds and tests, no added warning){}",
        reports.len(),
        if controls_failed > 0 {
            format!(
                "; {controls_failed} control runs FAILED: the corpus itself is broken there, not the macro"
            )
        } else {
            String::new()
        }
    );
    passed == reports.len()
}

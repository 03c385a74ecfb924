// The program's version on `pushtimer_job_info`: a timed function of the binary crate hands
// over that crate's version (this case is a binary of trybuild's project, version 0.0.0) on its
// first call; before it, the version is unknown and the label is left out. pushtimer's own
// version (`pushtimer_version`) is not the binary crate's. The generated code reads the
// version through `::core`, so a module without the prelude compiles it too.
#![deny(warnings)]

#[no_implicit_prelude]
mod bare {
    #[::pushtimer::timed]
    pub fn step() -> u32 {
        1
    }
}

/// The one `pushtimer_job_info` line of the exposition.
fn info() -> String {
    let text = pushtimer::render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("pushtimer_job_info{"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    lines[0].to_owned()
}

fn main() {
    // The environment is ignored: no PUSHTIMER_VERSION of the machine's.
    pushtimer::Config::new()
        .install()
        .expect("the first configuration");
    let before = info();
    assert!(
        before.starts_with("pushtimer_job_info{pushtimer_version=\""),
        "{before}"
    );
    assert!(!before.contains("0.0.0"), "{before}");
    assert!(before.ends_with("} 1"), "{before}");
    assert_eq!(bare::step(), 1);
    let after = info();
    assert!(
        after.starts_with("pushtimer_job_info{version=\"0.0.0\",pushtimer_version=\""),
        "{after}"
    );
    assert!(!after.contains("pushtimer_version=\"0.0.0\""), "{after}");
    assert!(after.ends_with("} 1"), "{after}");
}

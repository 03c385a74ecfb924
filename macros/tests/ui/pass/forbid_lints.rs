// A crate that forbids lints: #[timed] must not need any `#[allow]` of its own, which a
// `forbid` refuses (E0453), even where the body diverges.
#![forbid(unreachable_code)]
#![forbid(warnings)]

#[pushtimer::timed]
fn checked(x: u32) -> Result<u32, String> {
    if x == 0 {
        return Err("zero".into());
    }
    Ok(x)
}

#[pushtimer::timed]
fn returns_on_every_path(x: bool) -> u32 {
    if x { return 1 } else { return 2 }
}

#[pushtimer::timed]
fn exits() -> u32 {
    std::process::exit(1)
}

#[pushtimer::timed]
fn returns_a_panic() -> u32 {
    return panic!("on purpose");
}

#[pushtimer::timed]
async fn fetch(x: u32) -> Result<u32, String> {
    if x == 0 {
        return Err("zero".into());
    }
    Ok(x)
}

#[pushtimer::timed]
async fn spins() -> u32 {
    loop {
        std::future::ready(()).await;
    }
}

#[pushtimer::timed]
async fn never_returns() -> ! {
    loop {
        std::future::ready(()).await;
    }
}

fn main() {
    assert_eq!(checked(1), Ok(1));
    assert_eq!(returns_on_every_path(true) + returns_on_every_path(false), 3);
    let _ = (fetch(1), spins(), never_returns());
    if std::env::args().count() > 5 {
        exits();
        returns_a_panic();
    }
}

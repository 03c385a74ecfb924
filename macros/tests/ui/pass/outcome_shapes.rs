#![deny(warnings)]
#![allow(clippy::all)]

// Every way out of a body, in shapes that must stay valid code and warning-free.

type Fallible<T> = Result<T, String>;

#[pushtimer::timed]
fn parse_alias(text: &str) -> Fallible<u32> {
    let n: u32 = text.parse().map_err(|_| format!("not a number: {text}"))?;
    if n == 0 {
        return Err("zero".into());
    }
    Ok(n)
}

#[pushtimer::timed]
fn io_result(path: &str) -> std::io::Result<usize> {
    Ok(std::fs::read(path)?.len())
}

#[pushtimer::timed]
fn question_in_a_closure(values: &[&str]) -> Vec<Result<u8, std::num::ParseIntError>> {
    // The closure's `?` is the closure's own.
    values.iter().map(|v| -> Result<u8, _> { Ok(v.parse::<u8>()? + 1) }).collect()
}

#[pushtimer::timed]
fn option_question(values: &[u8]) -> Option<u8> {
    let first = values.first()?;
    Some(first + 1)
}

#[pushtimer::timed]
fn generic_result<T: std::str::FromStr>(text: &str) -> Result<T, T::Err> {
    text.parse()
}

#[pushtimer::timed]
fn generic_output<T: Default>() -> T {
    T::default()
}

#[pushtimer::timed]
fn not_yet(_: u32) -> u32 {
    todo!()
}

#[pushtimer::timed]
fn forever() -> ! {
    loop {
        std::thread::park();
    }
}

#[pushtimer::timed]
fn loop_break(n: u32) -> Result<u32, String> {
    let mut i = 0;
    loop {
        i += 1;
        if i == n {
            break Ok(i);
        }
    }
}

#[pushtimer::timed]
fn spins() -> u32 {
    loop {
        std::thread::park();
    }
}

#[pushtimer::timed]
fn exits() -> u32 {
    std::process::exit(1)
}

#[pushtimer::timed]
fn unit_with_early_return(flag: bool) {
    if flag {
        return;
    }
    let _ = flag;
}

#[pushtimer::timed]
fn question_in_a_macro(text: &str) -> Result<String, std::num::ParseIntError> {
    Ok(format!("{}", text.parse::<u8>()?))
}

#[pushtimer::timed]
fn nested_fn() -> Result<u8, ()> {
    fn inner() -> Result<u8, ()> {
        Err(())?;
        Ok(1)
    }
    inner().or(Ok(2))
}

#[pushtimer::timed]
fn impl_iterator(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[pushtimer::timed]
fn collect_inferred(values: &[u8]) -> Vec<u16> {
    values.iter().map(|v| u16::from(*v)).collect()
}

#[pushtimer::timed]
fn borrowed<'a>(values: &'a [u8], index: usize) -> Result<&'a u8, String> {
    values.get(index).ok_or_else(|| format!("no {index}"))
}

#[pushtimer::timed]
async fn async_question(text: &str) -> Result<u8, std::num::ParseIntError> {
    let n = async { text.parse::<u8>() }.await?;
    Ok(n)
}

fn main() {
    assert_eq!(parse_alias("3"), Ok(3));
    assert!(parse_alias("x").is_err());
    assert!(parse_alias("0").is_err());
    assert!(io_result("/nonexistent/file").is_err());
    assert_eq!(question_in_a_closure(&["1", "x"]).len(), 2);
    assert_eq!(option_question(&[]), None);
    assert_eq!(generic_result::<u8>("7"), Ok(7));
    assert_eq!(generic_output::<u8>(), 0);
    assert!(std::panic::catch_unwind(|| not_yet(1)).is_err());
    let _ = forever as fn() -> !;
    let _ = (spins as fn() -> u32, exits as fn() -> u32);
    assert_eq!(loop_break(3), Ok(3));
    unit_with_early_return(true);
    unit_with_early_return(false);
    assert!(question_in_a_macro("x").is_err());
    assert_eq!(nested_fn(), Ok(2));
    assert_eq!(impl_iterator(3).count(), 3);
    assert_eq!(collect_inferred(&[1, 2]), vec![1, 2]);
    assert!(borrowed(&[1], 3).is_err());
    let text = pushtimer::render();
    for (series, count) in [
        ("parse_alias_seconds_count{outcome=\"ok\"}", 1),
        ("parse_alias_seconds_count{outcome=\"error\"}", 2),
        ("io_result_seconds_count{outcome=\"error\"}", 1),
        ("question_in_a_closure_seconds_count{outcome=\"ok\"}", 1),
        ("option_question_seconds_count{outcome=\"ok\"}", 1),
        ("generic_result_seconds_count{outcome=\"ok\"}", 1),
        ("not_yet_seconds_count{outcome=\"panic\"}", 1),
        ("unit_with_early_return_seconds_count{outcome=\"ok\"}", 2),
        ("question_in_a_macro_seconds_count{outcome=\"error\"}", 1),
        ("nested_fn_seconds_count{outcome=\"ok\"}", 1),
        ("loop_break_seconds_count{outcome=\"ok\"}", 1),
        ("impl_iterator_seconds_count{outcome=\"ok\"}", 1),
        ("borrowed_seconds_count{outcome=\"error\"}", 1),
    ] {
        assert!(text.contains(&format!("{series} {count}\n")), "{series}: {text}");
    }
    // Functions that cannot fail have no `error` series.
    assert!(!text.contains("option_question_seconds_count{outcome=\"error\"}"), "{text}");
    assert!(!text.contains("generic_output_seconds_count{outcome=\"error\"}"), "{text}");
    let _ = async_question;
}

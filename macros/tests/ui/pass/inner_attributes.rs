#![deny(warnings)]

/// Inner attributes stay at the top of the body, before the timer.
#[pushtimer::timed]
fn lenient(x: u32) -> u32 {
    #![allow(unused_variables, clippy::let_and_return)]
    let unused = 1;
    let y = x + 1;
    y
}

#[pushtimer::timed(name = "documented_inside")]
fn documented_inside() -> &'static str {
    //! Inner doc comments are inner attributes too.
    #![allow(unused_mut)]
    let mut text = "ok";
    text
}

fn main() {
    assert_eq!(lenient(1), 2);
    assert_eq!(documented_inside(), "ok");
    let text = pushtimer::render();
    assert!(text.contains("lenient_seconds_count{outcome=\"ok\"} 1"), "{text}");
    assert!(text.contains("documented_inside_seconds_count{outcome=\"ok\"} 1"), "{text}");
}

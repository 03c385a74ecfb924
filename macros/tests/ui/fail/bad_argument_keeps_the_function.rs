// A bad argument is the only error: the function stays, so its callers do not fail too.
#[pushtimer::timed(nmae = "typo")]
fn kept() -> u32 {
    1
}

fn main() {
    assert_eq!(kept(), 1);
}

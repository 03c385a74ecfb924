#![deny(warnings)]

#[pushtimer::timed]
fn r#type(r#in: u32) -> u32 {
    r#in + 1
}

#[pushtimer::timed(labels(r#type = "raw"))]
fn r#match() -> bool {
    true
}

fn main() {
    assert_eq!(r#type(1), 2);
    assert!(r#match());
}

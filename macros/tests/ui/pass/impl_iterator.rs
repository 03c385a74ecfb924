#![deny(warnings)]

#[pushtimer::timed]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[pushtimer::timed]
fn words(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.split_whitespace()
}

fn main() {
    assert_eq!(evens(7).collect::<Vec<_>>(), vec![0, 2, 4, 6]);
    assert_eq!(words("a b  c").count(), 3);
}

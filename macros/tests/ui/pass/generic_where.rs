#![deny(warnings)]

use std::fmt::Display;
use std::ops::Add;

#[pushtimer::timed]
fn sum_all<T, I>(items: I) -> T
where
    T: Add<Output = T> + Default + Copy,
    I: IntoIterator<Item = T>,
{
    items.into_iter().fold(T::default(), |acc, item| acc + item)
}

#[pushtimer::timed(name = "render_all")]
fn render<const N: usize, D: Display>(values: [D; N]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn main() {
    assert_eq!(sum_all(vec![1u32, 2, 3]), 6);
    assert_eq!(sum_all([1.5f64, 2.5]), 4.0);
    assert_eq!(render([1, 2, 3]), "1,2,3");
    assert_eq!(render(["a"]), "a");
}

// The attribute hides none of the compiler's own lints: an unused argument is still reported,
// in an `async fn` (whose body #[timed] runs in an inner block) as in a plain one.
#![deny(unused_variables)]

#[pushtimer::timed]
async fn fetch(used: u32, unused: u32) -> u32 {
    used
}

#[pushtimer::timed]
fn parse(used: u32, unused: u32) -> Result<u32, String> {
    Ok(used)
}

fn main() {
    let _ = fetch(1, 2);
    let _ = parse(1, 2);
}

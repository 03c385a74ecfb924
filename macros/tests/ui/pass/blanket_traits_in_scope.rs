#![deny(warnings)]

// Traits of the user's, implemented for every type and in scope, with the method names a
// generated probe could use: the expansion must not become ambiguous.

trait Everything {
    fn outcome(&self) -> u8 {
        0
    }
    fn fallible(&self) -> bool {
        false
    }
    fn mark(&self) {}
    fn enter(&self) {}
}

impl<T: ?Sized> Everything for T {}

#[pushtimer::timed]
fn checked(x: u32) -> Result<u32, String> {
    if x == 0 {
        return Err("zero".into());
    }
    Ok(x)
}

#[pushtimer::timed]
async fn fetched(x: u32) -> Result<u32, String> {
    Ok(x)
}

fn main() {
    assert_eq!(checked(1).outcome() + 1u8.outcome(), 0);
    assert!(!().fallible());
    ().mark();
    ().enter();
    let _ = fetched(1);
}

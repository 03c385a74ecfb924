#[pushtimer::timed]
/// A model; the error points at `struct`, past the doc comment and the visibility.
pub(crate) struct Model {
    layers: u32,
}

fn main() {}

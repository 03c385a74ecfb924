#[pushtimer::timed]
struct Model {
    layers: u32,
}

fn main() {}

#[pushtimer::timed]
fn größe() -> usize {
    3
}

fn main() {}

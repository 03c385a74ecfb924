#[pushtimer::timed(labels = "x")]
fn train() {}

fn main() {}

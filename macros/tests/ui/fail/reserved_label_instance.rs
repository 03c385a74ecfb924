#[pushtimer::timed(labels(instance = "host-1"))]
fn train() {}

fn main() {}

#[pushtimer::timed(labels(stage = 1))]
fn train() {}

fn main() {}

#[pushtimer::timed(labels(quantile = "0.5"))]
fn train() {}

fn main() {}

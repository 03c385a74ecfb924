#[pushtimer::timed(quantiles(0.5, 1.0))]
fn step() {}

fn main() {}

#[pushtimer::timed(buckets(0.1, 1.0), quantiles(0.99))]
fn step() {}

fn main() {}

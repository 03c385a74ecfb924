#[pushtimer::timed(buckets(0.1, 1.0, 0.5))]
fn upload() {}

fn main() {}

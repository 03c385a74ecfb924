#[pushtimer::timed(buckets(0.0, 1.0))]
fn upload() {}

fn main() {}

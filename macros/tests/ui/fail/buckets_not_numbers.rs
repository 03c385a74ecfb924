#[pushtimer::timed(buckets("0.1", 1.0))]
fn upload() {}

fn main() {}

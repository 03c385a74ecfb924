#[pushtimer::timed(name = "load_shard", unit = "seconds")]
fn load_shard() {}

fn main() {}

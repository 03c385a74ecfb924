#[pushtimer::timed(name = "load_shard", name = "load")]
fn load_shard() {}

fn main() {}

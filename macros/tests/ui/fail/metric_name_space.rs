#[pushtimer::timed(name = "a b")]
fn load_shard() {}

fn main() {}

#[pushtimer::timed(name = 5)]
fn load_shard() {}

fn main() {}

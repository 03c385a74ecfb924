#[pushtimer::timed(name = "")]
fn load_shard() {}

fn main() {}

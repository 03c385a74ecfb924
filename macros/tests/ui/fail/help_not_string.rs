#[pushtimer::timed(help = foo)]
fn load_shard() {}

fn main() {}

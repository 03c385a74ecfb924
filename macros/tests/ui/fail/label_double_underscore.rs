#[pushtimer::timed(labels(__name__ = "other"))]
fn train() {}

fn main() {}

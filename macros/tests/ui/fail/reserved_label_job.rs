#[pushtimer::timed(labels(stage = "fit", job = "train"))]
fn train() {}

fn main() {}

#[pushtimer::timed(labels(stage = "fit", outcome = "train"))]
fn train() {}

fn main() {}

#[pushtimer::timed(labels(stage = "fit", model = "unet", stage = "eval"))]
fn train() {}

fn main() {}

#[pushtimer::timed(labels(stage = "fit"), labels(model = "unet"))]
fn train() {}

fn main() {}

#[pushtimer::timed(histogram = "yes")]
fn upload() {}

fn main() {}

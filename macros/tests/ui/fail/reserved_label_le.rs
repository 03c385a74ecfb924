#[pushtimer::timed(histogram, labels(le = "0.5"))]
fn load() {}

fn main() {
    load();
}

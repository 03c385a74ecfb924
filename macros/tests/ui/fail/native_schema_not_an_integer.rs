// The schema is an integer literal.
#[pushtimer::timed(native_histogram(schema = "fine"))]
fn load() {}

fn main() {
    load();
}

// A native histogram's schema is from -4 to 8: the error is on the value.
#[pushtimer::timed(native_histogram(schema = 9))]
fn load() {}

fn main() {
    load();
}

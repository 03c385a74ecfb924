// One native histogram per function.
#[pushtimer::timed(native_histogram, native_histogram(schema = 3))]
fn load() {}

fn main() {
    load();
}

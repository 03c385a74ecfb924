// Names starting with `pushtimer_` belong to pushtimer's own metrics.
fn main() {
    pushtimer::count!("pushtimer_rows", 3);
}

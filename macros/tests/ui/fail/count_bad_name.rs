// A counter name that is no metric name is refused on the literal, and only there.
fn main() {
    pushtimer::count!("rows-processed", 3);
}

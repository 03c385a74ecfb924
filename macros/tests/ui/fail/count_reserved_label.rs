// The label rules of #[timed]: `outcome` belongs to how each call ended.
fn main() {
    pushtimer::count!("rows", 3, labels(outcome = "ok"));
}

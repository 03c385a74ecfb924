// After the name and the amount only `labels(...)` and `help = "..."` are taken.
fn main() {
    pushtimer::count!("rows", 3, label(stage = "load"));
}

// Label values are string literals (constant labels: a value made from data would grow the
// number of series without bound).
fn main() {
    let stage = "load";
    pushtimer::count!("rows", 1, labels(stage = stage));
}

// The name comes first, as a string literal.
fn main() {
    let rows = 3;
    pushtimer::count!(rows);
}

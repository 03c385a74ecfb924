// A counter counts whole numbers: a float amount is refused at compile time, not rounded.
fn main() {
    let gigabytes = 1.5_f64;
    pushtimer::count!("loaded_gigabytes", gigabytes);
}

// A syntax error inside a timed body: the compiler reports it, and nothing else (no error of
// the attribute's, and the function does not vanish, so `main` still finds it).
#[pushtimer::timed]
fn broken(x: u32) -> u32 {
    let y = x + ;
    y
}

fn main() {
    broken(1);
}

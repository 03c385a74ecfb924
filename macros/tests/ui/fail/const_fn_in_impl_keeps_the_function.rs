struct Answer;

impl Answer {
    #[pushtimer::timed]
    const fn get() -> u32 {
        42
    }
}

// Callers still compile: the error above is the only one.
const ANSWER: u32 = Answer::get();

fn main() {
    assert_eq!(Answer::get(), ANSWER);
}

trait Trainer {
    #[pushtimer::timed]
    fn train(&self);
}

fn main() {}

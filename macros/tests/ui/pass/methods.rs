#![deny(warnings)]

struct Model {
    epochs: u32,
}

impl Model {
    #[pushtimer::timed]
    fn new(epochs: u32) -> Self {
        Model { epochs }
    }

    #[pushtimer::timed(name = "model_epochs")]
    fn epochs(&self) -> u32 {
        self.epochs
    }

    #[pushtimer::timed(labels(stage = "fit"))]
    fn fit(&mut self) -> &mut Self {
        self.epochs += 1;
        self
    }

    #[pushtimer::timed]
    fn into_epochs(self) -> u32 {
        self.epochs
    }

    #[pushtimer::timed]
    fn boxed_epochs(self: Box<Self>) -> u32 {
        self.epochs
    }

    #[pushtimer::timed]
    pub(crate) fn reset(mut self) -> Self {
        self.epochs = 0;
        self
    }
}

fn main() {
    let mut model = Model::new(1);
    model.fit().fit();
    assert_eq!(model.epochs(), 3);
    assert_eq!(model.reset().into_epochs(), 0);
    assert_eq!(Box::new(Model::new(5)).boxed_epochs(), 5);
}

#![deny(warnings)]

trait Stage {
    fn run(&self, input: u32) -> u32;

    fn name(&self) -> &'static str {
        "stage"
    }
}

struct Double;

impl Stage for Double {
    #[pushtimer::timed(name = "double_stage", labels(stage = "double"))]
    fn run(&self, input: u32) -> u32 {
        input * 2
    }

    #[pushtimer::timed]
    fn name(&self) -> &'static str {
        "double"
    }
}

fn run_dyn(stage: &dyn Stage, input: u32) -> u32 {
    stage.run(input)
}

fn main() {
    assert_eq!(run_dyn(&Double, 4), 8);
    assert_eq!(Double.name(), "double");
}

#[pushtimer::timed(name = "pushtimer_job_duration")]
fn named_like_pushtimer() {}

#[pushtimer::timed]
fn pushtimer_job_start() {}

fn main() {
    named_like_pushtimer();
    pushtimer_job_start();
}

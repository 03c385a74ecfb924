// Quantiles are a summary's; a native histogram's come from histogram_quantile().
#[pushtimer::timed(native_histogram, quantiles(0.5))]
fn load() {}

fn main() {
    load();
}

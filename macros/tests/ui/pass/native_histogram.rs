// `native_histogram`, with or without a schema, beside classic buckets or not, under the
// strictest lints; the text exposition shows the classic buckets (made from the native ones
// when none are given) and the count.
#![deny(warnings)]
#![forbid(unsafe_code)]

#[pushtimer::timed(name = "ui_native", native_histogram)]
fn native() -> Result<u32, String> {
    Ok(1)
}

#[pushtimer::timed(name = "ui_native_coarse", native_histogram(schema = -2))]
fn coarse() {}

#[pushtimer::timed(name = "ui_native_both", buckets(0.5, 1), native_histogram(schema = 8))]
fn both() {}

fn main() {
    assert_eq!(native(), Ok(1));
    coarse();
    both();
    let text = pushtimer::render();
    for expected in [
        "# TYPE ui_native_seconds histogram\n",
        "ui_native_seconds_bucket{outcome=\"ok\",le=\"0.25\"} 1\n",
        "ui_native_seconds_count{outcome=\"ok\"} 1\n",
        "ui_native_coarse_seconds_count{outcome=\"ok\"} 1\n",
        "ui_native_both_seconds_bucket{outcome=\"ok\",le=\"0.5\"} 1\n",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    assert!(
        !text.contains("ui_native_both_seconds_bucket{outcome=\"ok\",le=\"0.25\"}"),
        "{text}"
    );
}

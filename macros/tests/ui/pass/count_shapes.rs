// `count!` wherever an expression of type `()` goes, with every integer type, under
// `#![deny(warnings)]` and the strictest lints a crate may set.
#![deny(warnings)]
#![forbid(unsafe_code, unreachable_code)]
#![deny(clippy::all, clippy::pedantic)]

mod no_prelude {
    #![no_implicit_prelude]

    pub fn count_here(rows: u32) {
        ::pushtimer::count!("ui_no_prelude_rows", rows);
    }
}

fn generic<T: AsRef<[u8]>>(data: &T) {
    pushtimer::count!("ui_generic_bytes", data.as_ref().len());
}

#[pushtimer::timed(name = "ui_transform")]
fn transform(rows: &[i64]) -> Result<usize, String> {
    let positive = rows.iter().filter(|row| **row > 0).count();
    pushtimer::count!("ui_transform_rows", positive, labels(kind = "positive"), help = "Rows kept");
    let total: i64 = rows.iter().sum();
    if total < 0 {
        // A negative amount is refused and counted at run time, never a panic.
        pushtimer::count!("ui_transform_total", total);
        return Err(String::from("negative"));
    }
    Ok(positive)
}

fn main() {
    let rows = [1_i64, -2, 3];
    assert_eq!(transform(&rows), Ok(2));
    assert!(transform(&[-5]).is_err());
    no_prelude::count_here(7);
    generic(&vec![0_u8; 16]);
    generic(&"four");
    let retried = || pushtimer::count!("ui_retries");
    retried();
    let unit: () = pushtimer::count!("ui_retries", 1_u8,);
    let () = unit;
    for amount in [1_u16, 2, 3] {
        match amount {
            2 => pushtimer::count!("ui_even", amount),
            _ => pushtimer::count!("ui_odd", u64::from(amount), labels(r#type = "odd")),
        }
    }
    let text = pushtimer::render();
    for expected in [
        "ui_transform_rows_total{kind=\"positive\"} 2\n",
        "# HELP ui_transform_rows_total Rows kept\n",
        "ui_no_prelude_rows_total 7\n",
        "ui_generic_bytes_total 20\n",
        "ui_retries_total 2\n",
        "ui_even_total 2\n",
        "ui_odd_total{type=\"odd\"} 4\n",
        "pushtimer_rejected_observations_total{metric=\"ui_transform_total\"} 1\n",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

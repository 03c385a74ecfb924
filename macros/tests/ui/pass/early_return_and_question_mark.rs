#![deny(warnings)]

use std::num::ParseIntError;

#[pushtimer::timed(name = "parse_shard", help = "Parses one shard id", labels(stage = "load"))]
fn parse_shard(text: &str) -> Result<u32, ParseIntError> {
    if text.is_empty() {
        return Ok(0);
    }
    let id: u32 = text.trim().parse()?;
    Ok(id * 2)
}

#[pushtimer::timed]
fn first_even(values: &[u32]) -> Option<u32> {
    for &value in values {
        if value % 2 == 0 {
            return Some(value);
        }
    }
    None
}

fn main() {
    assert_eq!(parse_shard(""), Ok(0));
    assert_eq!(parse_shard(" 21 "), Ok(42));
    assert!(parse_shard("x").is_err());
    assert_eq!(first_even(&[1, 3, 4, 6]), Some(4));
    assert_eq!(first_even(&[1]), None);
}

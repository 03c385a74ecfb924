#![deny(warnings)]

// Every coercion site of a body stays one under #[timed]: the tail, `return`, match arms,
// expressions built by macros, and `?`.

use std::error::Error;
use std::fmt;
use std::ops::{Deref, DerefMut};

struct Named {
    s: String,
}

impl Named {
    #[pushtimer::timed]
    fn name(&self) -> &str {
        &self.s
    }

    #[pushtimer::timed]
    fn name_or(&self, fallback: &'static String) -> &str {
        if self.s.is_empty() {
            return fallback;
        }
        &self.s
    }
}

#[pushtimer::timed]
fn make() -> Box<dyn Fn() -> u32> {
    Box::new(|| 1)
}

#[derive(Debug)]
struct E;

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("E")
    }
}

impl Error for E {}

#[pushtimer::timed]
fn load(fail: bool) -> Result<u32, Box<dyn Error>> {
    if fail {
        return Err(Box::new(E));
    }
    Err(Box::new(E))
}

#[pushtimer::timed]
fn parse(text: &str) -> Result<u32, Box<dyn Error>> {
    let n = text.parse()?;
    Ok(n)
}

#[pushtimer::timed]
fn bytes(a: &[u8; 4]) -> &[u8] {
    a
}

#[pushtimer::timed]
fn collected(text: &str) -> Result<Vec<u32>, std::num::ParseIntError> {
    text.split(',').map(str::parse).collect()
}

#[pushtimer::timed]
fn braces() -> u32 {
    #[allow(unused_braces)]
    {
        1
    }
}

enum Either {
    Left(Vec<u8>),
    Right(Vec<u8>),
}

macro_rules! each {
    ($value:expr, $inner:pat => $result:expr) => {
        match $value {
            Either::Left($inner) => $result,
            Either::Right($inner) => $result,
        }
    };
}

impl Deref for Either {
    type Target = [u8];

    #[pushtimer::timed]
    fn deref(&self) -> &Self::Target {
        each!(self, inner => &**inner)
    }
}

impl DerefMut for Either {
    #[pushtimer::timed]
    fn deref_mut(&mut self) -> &mut Self::Target {
        each!(*self, ref mut inner => &mut *inner)
    }
}

#[pushtimer::timed]
fn first_mut(values: &mut Vec<u8>) -> Option<&mut u8> {
    let first = values.first_mut()?;
    Some(first)
}

fn main() {
    let named = Named { s: "x".into() };
    assert_eq!(named.name(), "x");
    static FALLBACK: String = String::new();
    assert_eq!(Named { s: String::new() }.name_or(&FALLBACK), "");
    assert_eq!(make()(), 1);
    assert!(load(true).is_err() && load(false).is_err());
    assert_eq!(parse("7").ok(), Some(7));
    assert!(parse("x").is_err());
    assert_eq!(bytes(&[1, 2, 3, 4]).len(), 4);
    assert_eq!(collected("1,2").ok(), Some(vec![1, 2]));
    assert_eq!(braces(), 1);
    let mut either = Either::Left(vec![1]);
    either[0] = 2;
    assert_eq!(&*either, &[2]);
    assert!(matches!(Either::Right(vec![]).len(), 0));
    assert_eq!(first_mut(&mut vec![3]).copied(), Some(3));
}

#![deny(warnings)]

use std::panic::Location;

#[pushtimer::timed]
#[track_caller]
fn caller_location() -> &'static Location<'static> {
    Location::caller()
}

fn main() {
    // The attribute must not hide the caller: the location is this line, not the macro's.
    let (location, line) = (caller_location(), line!());
    assert_eq!(location.line(), line);
    assert_eq!(location.file(), file!());
}

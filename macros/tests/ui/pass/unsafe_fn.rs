#![deny(warnings)]

/// Reads the first byte without a bounds check.
///
/// # Safety
///
/// `bytes` must not be empty.
#[pushtimer::timed]
unsafe fn first_unchecked(bytes: &[u8]) -> u8 {
    // SAFETY: the caller guarantees `bytes` is not empty.
    unsafe { *bytes.get_unchecked(0) }
}

#[pushtimer::timed]
pub unsafe extern "C" fn add_one(value: i32) -> i32 {
    value + 1
}

fn main() {
    // SAFETY: the slice is not empty.
    assert_eq!(unsafe { first_unchecked(b"xyz") }, b'x');
    // SAFETY: `add_one` has no preconditions.
    assert_eq!(unsafe { add_one(1) }, 2);
}

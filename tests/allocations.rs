//! A timed call allocates nothing after the first: observations are aggregated in place,
//! never queued, so a job's memory stays flat however many calls it makes.
//!
//! This test binary installs a counting global allocator. That is the one place in the tests
//! that needs `unsafe`: `GlobalAlloc` is an unsafe trait. It only counts and forwards to the
//! system allocator.
#![deny(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

thread_local! {
    /// Allocations made by this thread. A `const` thread-local needs no allocation itself,
    /// so the allocator can use it.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

fn count() {
    // `try_with`: during thread teardown the counter may be gone; such allocations are not
    // the test's.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[pushtimer::timed(name = "alloc_probe", labels(stage = "hot"))]
fn probe(x: u64) -> u64 {
    black_box(x.wrapping_mul(3))
}

#[test]
fn timed_calls_and_hand_observations_allocate_nothing_after_the_first() {
    // The first call registers the series (and creates the registry): that allocates, once.
    probe(0);
    let hand = pushtimer::Summary::builder("alloc_hand")
        .register()
        .expect("valid summary");
    hand.observe(0.5).expect("valid");

    let before = allocations();
    for i in 0..100_000 {
        probe(i);
        hand.observe(0.001).expect("valid");
        hand.observe_duration(Duration::from_micros(3));
        drop(hand.start_timer());
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "allocations during 100,000 rounds of calls"
    );

    // The data is all there: aggregated, not dropped.
    let text = pushtimer::render();
    assert!(
        text.contains("alloc_probe_seconds_count{outcome=\"ok\",stage=\"hot\"} 100001"),
        "{text}"
    );
    assert!(text.contains("alloc_hand_seconds_count 300001"), "{text}");
}

//! A job whose global allocator is timed, so every allocation pushtimer makes (creating its
//! runtime, registering series, calibrating its clock, rendering, pushing, logging) calls a
//! timed function: it must neither hang nor crash. `alloc` has quantiles (the sketch allocates
//! on first use too). Allocates 1,000 strings, flushes, prints `allocated 1000` and `flush=...`.
// A global allocator is an `unsafe impl`: the one reason for unsafe code in this job.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

struct Timed;

// SAFETY: every method hands its arguments to the system allocator unchanged.
unsafe impl GlobalAlloc for Timed {
    #[pushtimer::timed(name = "alloc_job_alloc", quantiles(0.5, 0.99))]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    #[pushtimer::timed(name = "alloc_job_dealloc")]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from System, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Timed = Timed;

fn main() {
    pushtimer_tests::init_stderr_logger();
    let strings: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    println!("allocated {}", strings.len());
    match pushtimer::flush() {
        Ok(()) => println!("flush=ok"),
        Err(error) => println!("flush=err:{error}"),
    }
}

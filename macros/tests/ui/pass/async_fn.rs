#![deny(warnings)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[pushtimer::timed(labels(stage = "fetch"))]
async fn fetch(id: u32) -> Result<u32, String> {
    let doubled = double(id).await;
    if doubled > 100 {
        return Err(format!("{id} is too large"));
    }
    Ok(doubled)
}

#[pushtimer::timed]
async fn double(value: u32) -> u32 {
    value * 2
}

/// Polls a future that never waits to completion (std only).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn main() {
    let future = fetch(21);
    assert_eq!(block_on(future), Ok(42));
    assert!(block_on(fetch(60)).is_err());
}

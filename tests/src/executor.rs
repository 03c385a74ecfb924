//! A minimal executor, so `async fn`s timed by the attribute can be driven without pulling an
//! async runtime into the tests.

/// Runs a future to completion on this thread (std only; the futures in these tests never
/// wait on anything external).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

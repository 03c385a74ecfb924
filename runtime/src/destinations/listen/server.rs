//! The threads of the endpoint: one accepts, one serves each connection (at most
//! [`MAX_CONNECTIONS`] at once, the oldest dropped for a new one), and one renders at a time.

use super::http::{Answer, Request, linger, parse_request, read_head};
use super::*;

impl Listen {
    /// Starts the thread that accepts connections.
    pub(super) fn serve_forever(&'static self, registry: &'static Registry) {
        let spawned = thread::Builder::new()
            .name("pushtimer-listen-accept".into())
            .spawn(move || self.accept_loop(registry));
        if let Err(error) = spawned {
            diagnostics::warn(format!(
                "cannot start the thread serving {} ({error}); it is not served",
                self.url
            ));
        }
    }

    pub(super) fn accept_loop(&'static self, registry: &'static Registry) {
        loop {
            match self.socket.accept() {
                Ok((stream, _)) => self.admit(registry, stream),
                // The client gave up before it was accepted: its business, not ours.
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(error) => {
                    self.warn_once(format!(
                        "accepting a connection at {} failed ({error}); scrapes may fail \
                         while this lasts",
                        self.url
                    ));
                    thread::sleep(ACCEPT_PAUSE);
                }
            }
        }
    }

    /// Serves `stream` on a thread of its own, after dropping the oldest connection if
    /// [`MAX_CONNECTIONS`] are open; closes it unanswered when it cannot be bounded.
    pub(super) fn admit(&'static self, registry: &'static Registry, stream: TcpStream) {
        // The handle by which a newer connection can drop this one.
        let Ok(handle) = stream.try_clone() else {
            return;
        };
        {
            let mut open = lock(&self.open);
            while open.connections.len() >= MAX_CONNECTIONS {
                match open.connections.pop_front() {
                    // Wakes its thread, blocked reading or writing, with an error.
                    Some((_, oldest)) => {
                        let _ = oldest.shutdown(Shutdown::Both);
                    }
                    None => break,
                }
            }
        }
        // Threads beyond the connections being served are those of dropped connections, which
        // end as soon as they wake: they are waited for (new connections wait in the socket's
        // backlog meanwhile), not more threads made.
        {
            let threads = lock(&self.threads);
            let (mut threads, _) = self
                .thread_ended
                .wait_timeout_while(threads, self.connection_deadline, |threads| {
                    *threads >= MAX_THREADS
                })
                .unwrap_or_else(PoisonError::into_inner);
            if *threads >= MAX_THREADS {
                return;
            }
            *threads = threads.saturating_add(1);
        }
        let id = {
            let mut open = lock(&self.open);
            let id = open.next;
            open.next = open.next.wrapping_add(1);
            open.connections.push_back((id, handle));
            id
        };
        // Moved into the thread; dropped with the closure when the thread cannot be made.
        let served = Served { listen: self, id };
        let spawned = thread::Builder::new()
            .name("pushtimer-scrape".into())
            .spawn(move || {
                // The whole guard is moved in (not only the field `serve` would borrow), so it
                // drops when the thread ends.
                let _served = served;
                // A panic (in a user collector, say) ends this connection only.
                let _ = catch_unwind(AssertUnwindSafe(|| self.serve(registry, stream)));
            });
        if let Err(error) = spawned {
            self.warn_once(format!(
                "cannot start a thread to serve a scrape at {} ({error}); scrapes fail while \
                 this lasts",
                self.url
            ));
        }
    }

    /// Reads one request from `stream` and answers it, all within [`CONNECTION_DEADLINE`].
    pub(super) fn serve(&self, registry: &Registry, mut stream: TcpStream) {
        let deadline = deadline::after(self.connection_deadline);
        let _ = stream.set_nodelay(true);
        let request = match read_head(&mut stream, deadline) {
            Ok(Some(head)) => parse_request(&head),
            Ok(None) => Request::TooLarge,
            // Closed, silent until the deadline, or dropped for a newer connection: there is
            // nobody to answer.
            Err(_) => return,
        };
        let written = match request {
            Request::Metrics { head_only, gzip } => match self.current(registry, deadline) {
                Some(rendered) => {
                    let zipped = if gzip { rendered.gzipped() } else { None };
                    let answer = Answer {
                        status: "200 OK",
                        content_type: CONTENT_TYPE,
                        gzip: zipped.is_some(),
                        body: zipped.unwrap_or(&rendered.plain),
                        head_only,
                    };
                    answer.write(&mut stream, deadline)
                }
                None => Answer::error("503 Service Unavailable", "not rendered in time\n")
                    .write(&mut stream, deadline),
            },
            Request::NotFound => Answer::error("404 Not Found", "the metrics are at /metrics\n")
                .write(&mut stream, deadline),
            Request::NotAllowed => Answer::error(
                "405 Method Not Allowed",
                "only GET and HEAD are served here\n",
            )
            .write(&mut stream, deadline),
            Request::Bad => Answer::error("400 Bad Request", "not an HTTP request\n")
                .write(&mut stream, deadline),
            Request::TooLarge => Answer::error(
                "431 Request Header Fields Too Large",
                "the request head is over 8 KiB\n",
            )
            .write(&mut stream, deadline),
        };
        if written.is_ok() {
            linger(&mut stream, deadline);
        }
    }

    /// The rendering to serve: the last one if it is recent, else a fresh one, made by one
    /// thread at a time (the others serve the last one meanwhile, or, before the first, wait
    /// for it until `deadline`). `None` when there is none by then.
    pub(super) fn current(&self, registry: &Registry, deadline: Instant) -> Option<Arc<Rendered>> {
        loop {
            let cached = lock(&self.cache).clone();
            if let Some(rendered) = &cached
                && rendered.at.elapsed() < RENDER_EVERY
            {
                return cached;
            }
            if self
                .rendering
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                let _rendering = Rendering(self);
                let at = Instant::now();
                // The user's collectors run here, and the notes go to the user's logger:
                // no lock is held.
                let (text, notes) = registry.render();
                diagnostics::emit(notes);
                let fresh = Arc::new(Rendered {
                    at,
                    plain: text.into_bytes(),
                    gzip: OnceLock::new(),
                });
                *lock(&self.cache) = Some(Arc::clone(&fresh));
                return Some(fresh);
            }
            if cached.is_some() {
                // Another connection is rendering the next one.
                return cached;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let waiting = lock(&self.cache);
            let (cache, waited) = self
                .rendered
                .wait_timeout_while(waiting, left, |cache| {
                    cache.is_none() && self.rendering.load(Ordering::Acquire)
                })
                .unwrap_or_else(PoisonError::into_inner);
            drop(cache);
            if waited.timed_out() {
                return None;
            }
        }
    }

    pub(super) fn warn_once(&self, text: String) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            diagnostics::warn(text);
        }
    }
}

/// A thread serving one connection: when it ends (a panic included), the connection leaves
/// the open ones and the thread is no longer counted.
pub(super) struct Served {
    listen: &'static Listen,
    id: u64,
}

impl Drop for Served {
    fn drop(&mut self) {
        lock(&self.listen.open)
            .connections
            .retain(|(id, _)| *id != self.id);
        let mut threads = lock(&self.listen.threads);
        *threads = threads.saturating_sub(1);
        self.listen.thread_ended.notify_all();
    }
}

/// A rendering under way: when it ends (a panic in a user collector included), the next
/// connection may render, and those waiting for the first rendering wake.
pub(super) struct Rendering<'a>(&'a Listen);

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        // Under the cache's lock, so a waiter cannot miss the wake-up between its check and
        // its wait.
        let _cache = lock(&self.0.cache);
        self.0.rendering.store(false, Ordering::Release);
        self.0.rendered.notify_all();
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each update under these locks is one step (a push, a removal, an assignment), and no
    // user code runs under them: a poisoned lock holds a consistent state.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

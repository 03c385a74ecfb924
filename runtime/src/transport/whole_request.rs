//! A request reaches the kernel in one write, so a job killed mid-push never leaves a
//! truncated request on the gateway.
//!
//! ureq writes a request's head and its body in separate writes. When a job dies between the
//! two (`SIGKILL`, the OOM killer, the end of a Kubernetes grace period) the kernel closes the
//! connection after the head alone, and the Pushgateway (1.5.1, checked) applies whatever body
//! it got, even none: a `PUT` then empties the job's group, erasing the start timestamp the
//! alerts on killed runs rely on. A cut at a line boundary inside the body, likewise, replaces
//! the group with part of the push.
//!
//! [`WholeRequest`] is the last link of the agent's connector chain (above TLS): its transport
//! keeps what ureq sends until ureq waits for the answer, then hands it all to the transport
//! below at once, which writes it with one `write_all`. A process that dies before that write
//! sent nothing; once it returns the kernel holds the whole request and delivers it after the
//! process is gone. Requests larger than the output buffer ([`OUTPUT_BUFFER`]) or than the
//! socket's send buffer still take several writes.

use ureq::Error;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// The size of ureq's output buffer, set on the agent: the largest request sent in one write.
pub(crate) const OUTPUT_BUFFER: usize = 256 * 1024;

/// The connector wrapping each connection in a [`WholeRequestTransport`].
#[derive(Debug)]
pub(crate) struct WholeRequest;

impl<In: Transport> Connector<In> for WholeRequest {
    type Out = WholeRequestTransport<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(|inner| WholeRequestTransport {
            inner,
            pending: Vec::new(),
        }))
    }
}

/// A transport that sends nothing until the answer is awaited.
#[derive(Debug)]
pub(crate) struct WholeRequestTransport<T> {
    inner: T,
    /// What ureq has sent since the last answer was awaited.
    pending: Vec<u8>,
}

impl<T: Transport> WholeRequestTransport<T> {
    /// Hands what is pending to the transport below, in as few writes as its output buffer
    /// allows (one, for any request up to [`OUTPUT_BUFFER`]).
    fn send_pending(&mut self, timeout: NextTimeout) -> Result<(), Error> {
        let mut sent = 0;
        while sent < self.pending.len() {
            let output = self.inner.buffers().output();
            let amount = output.len().min(self.pending.len() - sent);
            if amount == 0 {
                break;
            }
            output[..amount].copy_from_slice(&self.pending[sent..sent + amount]);
            self.inner.transmit_output(amount, timeout)?;
            sent += amount;
        }
        self.pending.clear();
        Ok(())
    }
}

impl<T: Transport> Transport for WholeRequestTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, _timeout: NextTimeout) -> Result<(), Error> {
        let output = self.inner.buffers().output();
        let amount = amount.min(output.len());
        self.pending.extend_from_slice(&output[..amount]);
        Ok(())
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.send_pending(timeout)?;
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.send_pending(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ureq::Agent;
    use ureq::unversioned::resolver::DefaultResolver;
    use ureq::unversioned::transport::LazyBuffers;

    use super::*;

    /// What the bottom of the chain was asked to write, one entry per write.
    type Writes = Arc<Mutex<Vec<Vec<u8>>>>;

    /// Stands in for the socket: records each write, answers `204` to every request. No
    /// traffic leaves the process.
    #[derive(Debug)]
    struct RecordingSocket {
        buffers: LazyBuffers,
        writes: Writes,
        /// A request was written and not yet answered.
        owed: bool,
    }

    impl Transport for RecordingSocket {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }

        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), Error> {
            let written = self.buffers.output()[..amount].to_vec();
            self.writes.lock().unwrap().push(written);
            self.owed = true;
            Ok(())
        }

        fn await_input(&mut self, _: NextTimeout) -> Result<bool, Error> {
            if !self.owed {
                return Ok(false);
            }
            self.owed = false;
            let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
            let input = self.buffers.input_append_buf();
            input[..answer.len()].copy_from_slice(answer);
            self.buffers.input_appended(answer.len());
            Ok(true)
        }

        fn is_open(&mut self) -> bool {
            true
        }
    }

    #[derive(Debug)]
    struct Socket(Writes);

    impl Connector<()> for Socket {
        type Out = RecordingSocket;

        fn connect(
            &self,
            _: &ConnectionDetails,
            _: Option<()>,
        ) -> Result<Option<RecordingSocket>, Error> {
            Ok(Some(RecordingSocket {
                buffers: LazyBuffers::new(64 * 1024, OUTPUT_BUFFER),
                writes: self.0.clone(),
                owed: false,
            }))
        }
    }

    /// An agent configured as `http::agent` configures its own, on the recording socket.
    fn agent_writing_whole_requests(writes: &Writes) -> Agent {
        Agent::with_parts(
            Agent::config_builder()
                .output_buffer_size(OUTPUT_BUFFER)
                .build(),
            Socket(writes.clone()).chain(WholeRequest),
            DefaultResolver::default(),
        )
    }

    fn put(agent: &Agent, body: &[u8]) {
        let answer = agent
            .put("http://127.0.0.1:9/metrics/job/killed")
            .send(body)
            .unwrap();
        assert_eq!(answer.status(), 204);
    }

    fn body() -> Vec<u8> {
        (0..200)
            .flat_map(|i| format!("metric_{i} {i}\n").into_bytes())
            .collect()
    }

    #[test]
    fn without_it_ureq_writes_the_head_and_the_body_apart() {
        // The premise: a process killed between these two writes leaves a head without a body.
        let writes = Writes::default();
        let agent = Agent::with_parts(
            Agent::config_builder().build(),
            Socket(writes.clone()),
            DefaultResolver::default(),
        );
        put(&agent, &body());
        assert!(writes.lock().unwrap().len() >= 2, "{writes:?}");
    }

    #[test]
    fn head_and_body_go_in_one_write() {
        let writes = Writes::default();
        let agent = agent_writing_whole_requests(&writes);
        let body = body();
        for _ in 0..2 {
            put(&agent, &body);
        }
        let writes = writes.lock().unwrap();
        assert_eq!(writes.len(), 2, "one write per request");
        for write in writes.iter() {
            let text = String::from_utf8_lossy(write);
            assert!(
                text.starts_with("PUT /metrics/job/killed HTTP/1.1\r\n"),
                "{text}"
            );
            assert!(write.ends_with(&body), "{text}");
        }
    }

    #[test]
    fn a_request_larger_than_the_buffer_is_sent_whole_in_pieces() {
        let writes = Writes::default();
        let agent = agent_writing_whole_requests(&writes);
        let body: Vec<u8> = body().into_iter().cycle().take(OUTPUT_BUFFER * 2).collect();
        put(&agent, &body);
        let writes = writes.lock().unwrap();
        assert!(writes.len() >= 3, "{}", writes.len());
        assert!(writes.iter().all(|w| w.len() <= OUTPUT_BUFFER));
        assert!(writes.concat().ends_with(&body));
    }
}

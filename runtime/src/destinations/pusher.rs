//! The public client for one Pushgateway group: push (PUT), add (POST), delete.

use std::time::Duration;

use crate::destinations::grouping;
use crate::diagnostics;
use crate::encode::text;
use crate::error::PushError;
use crate::settings::env;
use crate::settings::names;
use crate::settings::server::Server;
use crate::transport::deadline;
use crate::transport::endpoint::Endpoint;
use crate::transport::http::{Body, Exchange, Request};
use crate::transport::retry::Retries;

/// A client for one group of one Pushgateway, in the style of client_golang's `push.Pusher`.
///
/// The background pusher uses one built from [`Config`](crate::Config); build your own to push
/// elsewhere or by hand. The gateway is a [`Server`] (or just its URL), whose files are read
/// and checked at once.
///
/// ```no_run
/// use std::time::Duration;
///
/// let gateway = pushtimer::Server::new("https://pushgateway.monitoring:9091")
///     .ca_file("/etc/pushgateway/ca.pem")
///     .basic_auth("batch", "secret");
/// let pusher = pushtimer::Pusher::new(gateway, "nightly_etl")?
///     .grouping("instance", "worker-3")?
///     .timeout(Duration::from_secs(2));
/// pusher.push(&pushtimer::render())?; // PUT: replace the group
/// pusher.add(&pushtimer::render())?;  // POST: replace only these families
/// pusher.delete()?;                   // DELETE: remove the group
/// # Ok::<(), pushtimer::PushError>(())
/// ```
///
/// Every request: verification of the gateway's certificate always on; redirects not followed;
/// proxy variables not followed; bodies above 1 KiB gzip-compressed; connection failures,
/// timeouts and 5xx answers retried with jittered exponential backoff, all within the
/// [`timeout`](Self::timeout); 4xx answers never retried. `Debug` shows no credentials.
#[derive(Debug)]
#[must_use = "a Pusher does nothing until push, add or delete is called"]
pub struct Pusher {
    endpoint: Endpoint,
    job: String,
    /// Grouping labels after the job, in order; a name appears once.
    grouping: Vec<(String, String)>,
}

impl Pusher {
    /// A pusher for the group `job` at the Pushgateway `gateway` (see [`Server::new`] for the
    /// URL). Fails when the URL is not usable, a file of the server cannot be used, or the job
    /// is empty; the error names the setting (`PUSHGATEWAY_URL`, `PUSHGATEWAY_CA_FILE`, ...,
    /// `PUSHGATEWAY_JOB`). Lesser problems (credentials over plain `http://`) are warnings.
    pub fn new(gateway: impl Into<Server>, job: &str) -> Result<Self, PushError> {
        let mut problems = Vec::new();
        let endpoint = Endpoint::for_server(
            &gateway.into(),
            &env::GATEWAY,
            env::DEFAULT_TIMEOUT,
            &mut problems,
        );
        for problem in problems {
            diagnostics::warn(problem);
        }
        Pusher::with_endpoint(endpoint?, job)
    }

    /// A pusher for the group `job` on `endpoint`.
    pub(crate) fn with_endpoint(endpoint: Endpoint, job: &str) -> Result<Self, PushError> {
        if job.is_empty() {
            return Err(PushError::InvalidConfig {
                setting: env::JOB,
                reason: "the job name must not be empty".into(),
            });
        }
        Ok(Pusher {
            endpoint,
            job: job.to_owned(),
            grouping: Vec::new(),
        })
    }

    /// Sets a grouping label after the job: `/metrics/job/<job>/<name>/<value>`. Any value
    /// works (awkward ones are sent base64-encoded); the name must be a valid label name other
    /// than `job`. Setting a name again replaces its value (the name moves to the end).
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Self, PushError> {
        if let Some(reason) = names::grouping_name_problem(name) {
            return Err(PushError::InvalidConfig {
                setting: env::GROUPING,
                reason: format!("{name:?}: {reason}"),
            });
        }
        env::set_pair(&mut self.grouping, name, value);
        Ok(self)
    }

    /// Total deadline of one push, retries included. Default: 5 s; kept between 10 ms and 5
    /// minutes (a value outside is moved to the nearer bound), as `PUSHGATEWAY_TIMEOUT`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        let (timeout, _moved) = env::TIMEOUT_BOUNDS.clamp(env::TIMEOUT, timeout);
        self.endpoint.set_timeout(timeout);
        self
    }

    /// The gateway's base URL, without credentials: where [`url`](Self::url) starts.
    pub(crate) fn base(&self) -> &str {
        self.endpoint.base()
    }

    /// The group's URL, without credentials.
    pub fn url(&self) -> String {
        let mut url = format!(
            "{}/metrics{}",
            self.endpoint.base(),
            grouping::segment("job", &self.job)
        );
        for (name, value) in &self.grouping {
            url.push_str(&grouping::segment(name, value));
        }
        url
    }

    /// Replaces the whole group with `exposition` (HTTP PUT).
    pub fn push(&self, exposition: &str) -> Result<(), PushError> {
        self.send_now(Request::Put(text_body(exposition)))
    }

    /// Replaces only the metric families in `exposition`, keeping the group's others (POST).
    pub fn add(&self, exposition: &str) -> Result<(), PushError> {
        self.send_now(Request::Post(text_body(exposition)))
    }

    /// Deletes the whole group (HTTP DELETE, no body).
    pub fn delete(&self) -> Result<(), PushError> {
        self.send_now(Request::Delete)
    }

    fn send_now(&self, request: Request<'_>) -> Result<(), PushError> {
        self.send(
            request,
            deadline::after(self.endpoint.timeout()),
            Retries::WithinDeadline,
        )
        .result
    }

    /// Sends `request`, retrying as `retries` and `deadline` allow; never later than `deadline`.
    pub(crate) fn send(
        &self,
        request: Request<'_>,
        deadline: std::time::Instant,
        retries: Retries,
    ) -> Exchange {
        self.send_to(self.url(), request, deadline, retries)
    }

    /// [`send`](Self::send) to the group below this one that holds the record `record` of
    /// the job's runs (see `run.rs`).
    pub(crate) fn send_record(
        &self,
        record: &str,
        request: Request<'_>,
        deadline: std::time::Instant,
        retries: Retries,
    ) -> Exchange {
        let url = self.url() + &grouping::segment(crate::store::run::RECORD_LABEL, record);
        self.send_to(url, request, deadline, retries)
    }

    fn send_to(
        &self,
        url: String,
        request: Request<'_>,
        deadline: std::time::Instant,
        retries: Retries,
    ) -> Exchange {
        let (method, payload) = request.encode();
        self.endpoint
            .exchange(&url, method, payload.as_ref(), deadline, retries)
    }
}

/// A text exposition (what [`render`](crate::render) gives) as a request body.
fn text_body(exposition: &str) -> Body<'_> {
    Body {
        bytes: exposition.as_bytes(),
        content_type: text::CONTENT_TYPE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_job_is_refused() {
        let error = Pusher::new("http://h", "").unwrap_err();
        assert!(error.to_string().contains("PUSHGATEWAY_JOB"));
    }

    #[test]
    fn group_url_has_no_double_slash() {
        let pusher = Pusher::new("http://h:9091/", "a/b").unwrap();
        assert_eq!(pusher.url(), "http://h:9091/metrics/job@base64/YS9i");
        let pusher = Pusher::new("http://h:9091/prefix/", "j")
            .unwrap()
            .grouping("instance", "")
            .unwrap();
        assert_eq!(
            pusher.url(),
            "http://h:9091/prefix/metrics/job/j/instance@base64/="
        );
    }

    #[test]
    fn a_grouping_name_set_twice_is_replaced() {
        let pusher = Pusher::new("http://h", "j")
            .unwrap()
            .grouping("instance", "a")
            .unwrap()
            .grouping("shard", "1")
            .unwrap()
            .grouping("instance", "b")
            .unwrap();
        assert_eq!(pusher.url(), "http://h/metrics/job/j/shard/1/instance/b");
    }

    #[test]
    fn grouping_names_are_checked() {
        for bad in ["job", "__x", "a-b", ""] {
            let error = Pusher::new("http://h", "j")
                .unwrap()
                .grouping(bad, "v")
                .unwrap_err();
            assert!(error.to_string().contains("PUSHGATEWAY_GROUPING"), "{bad}");
        }
    }

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let pusher = Pusher::new("https://batch:s%40cret@h:1/x", "j").unwrap();
        assert_eq!(pusher.url(), "https://h:1/x/metrics/job/j");
        assert_eq!(
            pusher.endpoint.auth().header().unwrap(),
            crate::transport::auth::Auth::basic("batch", "s@cret")
                .header()
                .unwrap()
        );
        assert!(!format!("{pusher:?}").contains("cret"));
        assert!(!pusher.endpoint.sends_credentials_in_clear_text());
        let plain = Pusher::new("http://u:p@h", "j").unwrap();
        assert!(plain.endpoint.sends_credentials_in_clear_text());
    }

    #[test]
    fn timeouts_stay_in_bounds() {
        let pusher = Pusher::new("http://h", "j").unwrap();
        assert_eq!(
            pusher.timeout(Duration::MAX).endpoint.timeout(),
            Duration::from_secs(300)
        );
        let pusher = Pusher::new("http://h", "j").unwrap();
        assert_eq!(
            pusher.timeout(Duration::ZERO).endpoint.timeout(),
            Duration::from_millis(10)
        );
    }
}

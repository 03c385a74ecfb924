//! The public client for one Pushgateway group: push (PUT), add (POST), delete.

use std::path::Path;
use std::time::Duration;

use crate::destinations::grouping;
use crate::error::PushError;
use crate::settings::env;
use crate::settings::names;
use crate::transport::deadline;
use crate::transport::endpoint::Endpoint;
use crate::transport::http::{Exchange, Request};
use crate::transport::retry::Retries;
use crate::transport::url::ServerUrl;

/// A client for one group of one Pushgateway, in the style of client_golang's `push.Pusher`.
///
/// The background pusher uses one built from [`Config`](crate::Config); build your own to push
/// elsewhere or by hand. Setters that read files check them at once.
///
/// ```no_run
/// use std::time::Duration;
///
/// let pusher = pushtimer::Pusher::new("https://pushgateway.monitoring:9091", "nightly_etl")?
///     .grouping("instance", "worker-3")?
///     .ca_file("/etc/pushgateway/ca.pem")?
///     .basic_auth("batch", "secret")
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
    /// A pusher for the group `job` at the Pushgateway `gateway`: an `http://` or `https://`
    /// base URL, optionally with a path prefix, optionally with percent-encoded
    /// `user:password@` for basic auth (everything between `://` and the last `@` is read as
    /// the user and password, and never shown). Fails when the URL is not usable or the job is
    /// empty; the error names `PUSHGATEWAY_URL` or `PUSHGATEWAY_JOB`.
    pub fn new(gateway: &str, job: &str) -> Result<Self, PushError> {
        Pusher::from_url(ServerUrl::parse(gateway, env::URL)?, job)
    }

    pub(crate) fn from_url(url: ServerUrl, job: &str) -> Result<Self, PushError> {
        if job.is_empty() {
            return Err(PushError::InvalidConfig {
                setting: env::JOB,
                reason: "the job name must not be empty".into(),
            });
        }
        Ok(Pusher {
            endpoint: Endpoint::new(url, &env::GATEWAY),
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
    /// minutes (a value outside is moved to the nearer bound).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.set_timeout(timeout);
        self
    }

    /// Sends HTTP basic auth. Over plain `http://` this works, but the password travels in
    /// clear text.
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        self.endpoint.set_basic_auth(username, password);
        self
    }

    /// Sends `Authorization: Bearer <token>`, the token read (trimmed) from `path` and read
    /// again whenever the file changes. The file is read and checked now, to fail early.
    pub fn bearer_token_file(mut self, path: impl AsRef<Path>) -> Result<Self, PushError> {
        self.endpoint.set_bearer_token_file(path.as_ref())?;
        Ok(self)
    }

    /// Trusts exactly the CA certificates in this PEM file for the gateway's certificate
    /// (instead of the public Mozilla roots). Checked now.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Result<Self, PushError> {
        self.endpoint.set_ca_file(path.as_ref())?;
        Ok(self)
    }

    /// Presents a client certificate (mutual TLS): a PEM chain and its PEM key (PKCS#8, PKCS#1
    /// or SEC1). Checked now, including that the key belongs to the certificate.
    pub fn client_cert_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, PushError> {
        self.endpoint
            .set_client_cert_files(cert.as_ref(), key.as_ref())?;
        Ok(self)
    }

    pub(crate) fn endpoint_mut(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    /// The deadline set with [`timeout`](Self::timeout).
    pub fn deadline(&self) -> Duration {
        self.endpoint.timeout()
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
        self.send_now(Request::Put(exposition))
    }

    /// Replaces only the metric families in `exposition`, keeping the group's others (POST).
    pub fn add(&self, exposition: &str) -> Result<(), PushError> {
        self.send_now(Request::Post(exposition))
    }

    /// Deletes the whole group (HTTP DELETE, no body).
    pub fn delete(&self) -> Result<(), PushError> {
        self.send_now(Request::Delete)
    }

    fn send_now(&self, request: Request<'_>) -> Result<(), PushError> {
        self.send(
            request,
            deadline::after(self.deadline()),
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
            pusher.timeout(Duration::MAX).deadline(),
            Duration::from_secs(300)
        );
        let pusher = Pusher::new("http://h", "j").unwrap();
        assert_eq!(
            pusher.timeout(Duration::ZERO).deadline(),
            Duration::from_millis(10)
        );
    }
}

//! One server pushtimer sends to (a Pushgateway or a remote-write endpoint): its base URL, its
//! credentials, its TLS settings, the deadline of a request, the HTTP agent made of them, and
//! requests to it retried within that deadline.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::error::PushError;
use crate::settings::env::{self, ServerVariables};
use crate::settings::server::Server;
use crate::transport::auth::Auth;
use crate::transport::http::{self, Connection, Exchange, Payload};
use crate::transport::retry::{Backoff, Retries};
use crate::transport::tls::TlsSettings;
use crate::transport::url::ServerUrl;

/// A server and how to reach it. `Debug` shows no credentials.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// `scheme://host[:port][/path]`: no trailing `/`, no credentials.
    base: String,
    timeout: Duration,
    auth: Auth,
    tls: TlsSettings,
    variables: &'static ServerVariables,
    /// Built on first use, so setters stay cheap and chainable.
    agent: OnceLock<Agent>,
}

impl Endpoint {
    /// The server at `url`, set by `variables`; userinfo in the URL becomes basic auth.
    fn new(url: ServerUrl, variables: &'static ServerVariables) -> Endpoint {
        let auth = match &url.credentials {
            Some((user, password)) => Auth::basic(user, password),
            None => Auth::None,
        };
        Endpoint {
            base: url.base,
            timeout: env::DEFAULT_TIMEOUT,
            auth,
            tls: TlsSettings::new(variables),
            variables,
            agent: OnceLock::new(),
        }
    }

    /// The endpoint for `server`, known by `variables`, with requests bounded by `timeout`
    /// (already within its bounds): its URL parsed, its files read and checked now. The error
    /// names the setting that makes it unusable; lesser problems (credentials in clear text,
    /// userinfo that should have been percent-encoded) go to `problems`.
    pub(crate) fn for_server(
        server: &Server,
        variables: &'static ServerVariables,
        timeout: Duration,
        problems: &mut Vec<String>,
    ) -> Result<Endpoint, PushError> {
        let url = ServerUrl::parse(&server.url, variables.url)?;
        if url.unencoded_userinfo {
            problems.push(format!(
                "the user:password in {} holds characters that must be percent-encoded there \
                 (/ ? # @ space %); it was read up to the last @ as written, but encode it \
                 (%2F %3F %23 %40 %20 %25) or use {} and {}",
                variables.url, variables.username, variables.password
            ));
        }
        let mut endpoint = Endpoint::new(url, variables);
        endpoint.timeout = timeout;
        if let Some(ca) = &server.ca_file {
            endpoint.tls.trust_ca_file(ca)?;
        }
        match (&server.client_cert_file, &server.client_key_file) {
            (Some(cert), Some(key)) => endpoint.tls.client_cert_files(cert, key)?,
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(PushError::InvalidConfig {
                    setting: variables.client_cert_file,
                    reason: format!(
                        "{} and {} must be set together",
                        variables.client_cert_file, variables.client_key_file
                    ),
                });
            }
        }
        if let Some(token) = &server.bearer_token_file {
            if server.username.is_some() {
                problems.push(format!(
                    "both {} and {} are set; the bearer token is used",
                    variables.bearer_token_file, variables.username
                ));
            }
            endpoint.auth = Auth::bearer_file(token, variables.bearer_token_file)?;
        } else if let Some(username) = &server.username {
            endpoint.auth = Auth::basic(username, server.password.as_deref().unwrap_or(""));
        } else if server.password.is_some() {
            problems.push(format!(
                "{} is set without {}; no basic auth is sent",
                variables.password, variables.username
            ));
        }
        if endpoint.sends_credentials_in_clear_text() {
            problems.push(format!(
                "{} is plain http://: the credentials travel in clear text; use https://",
                variables.url
            ));
        }
        Ok(endpoint)
    }

    /// The base URL, without credentials.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The deadline of one request, retries included (already within its bounds).
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.agent = OnceLock::new();
    }

    /// True when credentials would travel over plain `http://`.
    pub(crate) fn sends_credentials_in_clear_text(&self) -> bool {
        self.auth.is_some() && self.base.starts_with("http://")
    }

    #[cfg(test)]
    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Sends `method` with `payload` to `url` (on this server), retrying what may succeed on a
    /// later attempt (connection failures, timeouts, 429, 5xx) as `retries` and `deadline`
    /// allow, honouring a `Retry-After` that fits in the deadline; returns by `deadline`.
    pub(crate) fn exchange(
        &self,
        url: &str,
        method: &'static str,
        payload: Option<&Payload>,
        deadline: Instant,
        retries: Retries,
    ) -> Exchange {
        let agent = self
            .agent
            .get_or_init(|| http::agent(self.timeout, &self.tls));
        let connection = Connection {
            agent,
            auth: &self.auth,
            variables: self.variables,
        };
        let mut backoff = Backoff::new(deadline);
        let mut attempts = 0u32;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Exchange::failed(PushError::Timeout);
            }
            attempts = attempts.saturating_add(1);
            let exchange = http::attempt(connection, url, method, payload, left);
            match &exchange.result {
                Err(error) if error.is_retryable() => {
                    let out_of_attempts = retries == Retries::Quick && attempts >= 2;
                    // Not before the server's `Retry-After`, if it fits in the deadline; else
                    // give up now (the push thread then waits for it between rounds).
                    let waited = backoff.wait_at_least(exchange.retry_after.unwrap_or_default());
                    if out_of_attempts || !waited {
                        return exchange;
                    }
                }
                _ => return exchange,
            }
        }
    }
}

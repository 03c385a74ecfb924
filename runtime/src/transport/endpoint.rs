//! One server pushtimer sends to (a Pushgateway or a remote-write endpoint): its base URL, its
//! credentials, its TLS settings, the deadline of a request, the HTTP agent made of them, and
//! requests to it retried within that deadline.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::error::PushError;
use crate::settings::env::{self, ServerVariables};
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
    pub(crate) fn new(url: ServerUrl, variables: &'static ServerVariables) -> Endpoint {
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

    /// The base URL, without credentials.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn variables(&self) -> &'static ServerVariables {
        self.variables
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The deadline of one request, retries included, kept within bounds.
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = env::TIMEOUT_BOUNDS.clamp(env::TIMEOUT, timeout).0;
        self.agent = OnceLock::new();
    }

    pub(crate) fn set_basic_auth(&mut self, username: &str, password: &str) {
        self.auth = Auth::basic(username, password);
    }

    pub(crate) fn set_bearer_token_file(&mut self, path: &Path) -> Result<(), PushError> {
        self.auth = Auth::bearer_file(path, self.variables.bearer_token_file)?;
        Ok(())
    }

    pub(crate) fn set_ca_file(&mut self, path: &Path) -> Result<(), PushError> {
        self.tls.trust_ca_file(path)?;
        self.agent = OnceLock::new();
        Ok(())
    }

    pub(crate) fn set_client_cert_files(
        &mut self,
        cert: &Path,
        key: &Path,
    ) -> Result<(), PushError> {
        self.tls.client_cert_files(cert, key)?;
        self.agent = OnceLock::new();
        Ok(())
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

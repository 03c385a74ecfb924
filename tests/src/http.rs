//! Plain HTTP requests on loopback, for the harness and for tests that talk to a gateway
//! directly (readiness checks, scrapes, seeding a group with other metrics).

use std::time::Duration;

/// A plain HTTP GET on loopback: `(status, body)`, or `None` when it could not connect.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    http_request("GET", url, None)
}

/// A plain HTTP request on loopback: `(status, body)`, or `None` when it could not connect.
pub fn http_request(method: &str, url: &str, body: Option<&str>) -> Option<(u16, String)> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(body.unwrap_or("").to_owned())
        .ok()?;
    let mut response = agent.run(request).ok()?;
    let code = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Some((code, text))
}

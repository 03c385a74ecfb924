//! Test support for the integration suites, one concern per module:
//!
//! - `gateway`: a real Pushgateway on a free loopback port ([`Gateway`], [`free_port`]);
//! - `scrape`: parsing what a gateway exposes ([`Scrape`], [`Sample`]);
//! - `job`: the job binaries run as child processes ([`run_job`], [`spawn_job`], [`JobRun`],
//!   [`RunningJob`]), several at once ([`in_parallel`]), and the stderr logger they install;
//! - `checks`: assertions on finished jobs and on what a gateway holds;
//! - `fake`: an in-process fake gateway for what a real one cannot do ([`FakeGateway`]);
//! - `skip`: the one visible skip, a failure in CI ([`skip`]);
//! - `http`: plain HTTP requests on loopback ([`http_get`], [`http_request`]);
//! - `executor`: [`block_on`], for timed `async fn`s;
//! - `library`: [`library_step`], a timed function compiled in a library crate;
//! - `prometheus`, `victoria`: real Prometheus ([`Prometheus`], scraping a gateway or taking
//!   remote write) and VictoriaMetrics ([`VictoriaMetrics`]), and their query API;
//! - `node_exporter`: a real node exporter serving a textfile directory ([`NodeExporter`]),
//!   and a Prometheus scraping it ([`NodePrometheus`]);
//! - [`tls`]: certificates made at run time and a gateway behind TLS or basic auth.
//!
//! The modules are private and everything is re-exported here, so a test names every item
//! as `pushtimer_tests::X` (and `pushtimer_tests::tls::X`) however the files are cut.
#![forbid(unsafe_code)]

mod checks;
mod executor;
mod fake;
mod gateway;
mod http;
mod job;
mod library;
mod node_exporter;
mod prometheus;
mod scrape;
mod server;
mod skip;
mod sources;
pub mod tls;
mod victoria;

pub use checks::{
    assert_clean, assert_dashboard_answers, assert_exit_job_complete, assert_no_secret,
    assert_nothing_for, assert_unharmed_with_one_warning,
};
pub use executor::block_on;
pub use fake::{Behaviour, FakeGateway, RecordedRequest};
pub use gateway::{Gateway, free_port};
pub use http::{http_get, http_request};
pub use job::{
    JOB_LIMIT, JobRun, RunningJob, in_parallel, init_stderr_logger, run_final_push, run_job,
    run_job_os, spawn_job,
};
pub use library::library_step;
pub use node_exporter::{NodeExporter, NodePrometheus};
pub use prometheus::{
    Point, PromQl, Prometheus, parse_answer, promtool_or_skip, query_api, query_path,
};
pub use scrape::{Sample, Scrape};
pub use server::poll_until;
pub use skip::{skip, skips_are_failures};
pub use sources::{is_pushtimer_variable, repository, runtime_variables};
pub use victoria::VictoriaMetrics;

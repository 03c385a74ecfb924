#![deny(unused_must_use)]

// A Config or a Pusher that is built and dropped does nothing: the compiler says so.
fn main() {
    pushtimer::Config::from_env().job("nightly_etl");
    if let Ok(pusher) = pushtimer::Pusher::new("http://127.0.0.1:9091", "j") {
        pusher.timeout(std::time::Duration::from_secs(1));
    }
}

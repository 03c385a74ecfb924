#![deny(warnings)]

// #[timed] beside the attributes async code is written with: #[tokio::main] and #[tokio::test]
// in either order, and methods of an #[async_trait] impl.

use async_trait::async_trait;

#[async_trait]
trait Store {
    async fn get(&self, key: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;
    async fn len(&self) -> usize;
}

struct Memory(Vec<(String, String)>);

#[async_trait]
impl Store for Memory {
    #[pushtimer::timed]
    async fn get(&self, key: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        for (k, v) in &self.0 {
            if k == key {
                return Ok(v.clone());
            }
        }
        let n: u32 = key.parse()?;
        Err(format!("no {n}").into())
    }

    #[pushtimer::timed]
    async fn len(&self) -> usize {
        self.0.len()
    }
}

#[pushtimer::timed]
#[tokio::main(flavor = "current_thread")]
async fn timed_above() -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let store = Memory(vec![("a".into(), "1".into())]);
    assert_eq!(store.get("a").await?, "1");
    assert!(store.get("7").await.is_err());
    assert!(store.get("x").await.is_err());
    Ok(store.len().await)
}

#[tokio::main(flavor = "current_thread")]
#[pushtimer::timed]
async fn timed_below() -> u32 {
    async { 2 }.await
}

#[tokio::main(flavor = "current_thread")]
#[pushtimer::timed]
async fn unit_below() {
    tokio::task::yield_now().await;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    #[pushtimer::timed]
    async fn below() {}

    #[pushtimer::timed]
    #[tokio::test]
    async fn above() {}
}

fn main() {
    assert_eq!(timed_above().ok(), Some(1));
    assert_eq!(timed_below(), 2);
    unit_below();
    let text = pushtimer::render();
    for needle in [
        "get_seconds_count{outcome=\"ok\"} 1",
        "get_seconds_count{outcome=\"error\"} 2",
        "len_seconds_count{outcome=\"ok\"} 1",
        "timed_above_seconds_count{outcome=\"ok\"} 1",
        "timed_below_seconds_count{outcome=\"ok\"} 1",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

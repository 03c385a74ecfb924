#![deny(warnings)]

/// Loads one shard from disk.
///
/// The first line above becomes the HELP text of `load_shard_seconds`.
#[must_use]
#[pushtimer::timed]
#[inline]
pub fn load_shard(id: u32) -> Vec<u8> {
    vec![0; id as usize]
}

#[pushtimer::timed(help = "Explicit help wins over the doc comment")]
/// Doc comments and attributes after `#[timed]` are kept too.
#[must_use = "the checksum is the whole point"]
fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

fn main() {
    let shard = load_shard(3);
    assert_eq!(shard.len(), 3);
    assert_eq!(checksum(&shard), 0);
}

#[pushtimer::timed]
#[pushtimer::timed(name = "again")]
fn twice() -> u32 {
    1
}

use pushtimer::timed as measured;

#[measured]
#[pushtimer::timed]
fn twice_under_another_name() -> u32 {
    2
}

fn main() {
    // Callers still compile: the two errors above are the only ones.
    assert_eq!(twice() + twice_under_another_name() + also_called(), 6);
}

#[pushtimer::timed]
#[measured]
fn twice_the_other_way() -> u32 {
    3
}

fn also_called() -> u32 {
    twice_the_other_way()
}

#![deny(warnings)]

#[pushtimer::timed]
fn first<'a>(v: &'a [u8]) -> Option<&'a u8> {
    v.first()
}

#[pushtimer::timed]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

struct Buffer {
    data: Vec<u8>,
}

impl Buffer {
    #[pushtimer::timed]
    fn tail_mut(&mut self) -> Option<&mut u8> {
        self.data.last_mut()
    }
}

fn main() {
    assert_eq!(first(&[7, 8]), Some(&7));
    assert_eq!(first(&[]), None);
    assert_eq!(longest("ab", "c"), "ab");
    let mut buffer = Buffer { data: vec![1, 2] };
    if let Some(tail) = buffer.tail_mut() {
        *tail = 9;
    }
    assert_eq!(buffer.data, [1, 9]);
}

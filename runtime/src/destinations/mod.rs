//! Destinations: where the metrics go, one file each (the Pushgateway, with the public
//! [`Pusher`](crate::Pusher) for one group, and a remote-write endpoint), each implementing
//! [`Destination`](crate::push::destination::Destination), and the one place they are built
//! from the settings.
//!
//! May use `push`, `store`, `encode`, `transport` and `settings`.

pub(crate) mod gateway;
pub(crate) mod grouping;
pub(crate) mod pusher;
pub(crate) mod remote_write;

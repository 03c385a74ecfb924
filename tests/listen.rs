//! (being written) The listen destination, against a real server.
#![forbid(unsafe_code)]

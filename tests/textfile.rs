//! (being written) The textfile destination, against a real server.
#![forbid(unsafe_code)]

//! (being written) The project's own model of what it pushes.

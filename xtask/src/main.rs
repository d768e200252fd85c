//! `cargo xtask`: the project's chores, in Rust so they run wherever cargo runs.
fn main() {}

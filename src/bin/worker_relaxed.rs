//! The engine worker built with the `relaxed-simd` feature (index.html): the same program
//! as `worker.rs`.
include!("worker.rs");

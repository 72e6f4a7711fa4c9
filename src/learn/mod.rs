//! The "train it yourself" view (`?learn=1`): three networks that differ only in their
//! skip (none, add, concat) learn the same seeded synthetic task side by side, each in its
//! own Web Worker, and the page shows their losses, masks and scores live.
//!
//! - [`settings`]: task, upsampler, learning rate, size and seed, and their URL.
//! - [`session`]: one model's training run by the engine's code (no web dependency).
//! - [`protocol`], [`worker`]: the messages and the worker (bin `learn_worker`) around a session.
//! - [`state`]: the view's reducer, pure.
//! - [`hook`]: the three workers and the requests the state asks for.
//! - [`view`], [`chart`]: the view and its loss chart.

pub mod chart;
pub mod hook;
pub mod protocol;
pub mod session;
pub mod settings;
pub mod state;
pub mod view;
pub mod worker;

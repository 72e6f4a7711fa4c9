//! Messages between the page and a learn worker (one worker per model). Every request
//! carries the page's `generation` (bumped by every reset or change of settings) and every
//! answer repeats it, so the page drops answers of a run it has replaced.

use super::session::Evaluation;
use super::settings::Settings;
use serde::{Deserialize, Serialize};
use skipscope_engine::Skip;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LearnRequest {
    /// Build a fresh model (step 0); answered by [`LearnResponse::Ready`].
    Start { generation: u32, settings: Settings, skip: Skip },
    /// Train up to `max_steps` steps, stopping early once `budget_ms` have passed (at least
    /// one step); answered by [`LearnResponse::Progress`].
    Train { generation: u32, max_steps: u32, budget_ms: f64 },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LearnResponse {
    Ready {
        generation: u32,
        /// The shown held-out image, RGB, `size * size * 3`.
        rgb: Vec<u8>,
        /// Its true label, `size * size`.
        label: Vec<u8>,
        parameter_count: usize,
        /// Values of the initial weights equal to the skip-less model's.
        shared_values: usize,
        evaluation: Evaluation,
    },
    Progress {
        generation: u32,
        /// The loss of every step of this chunk, in order.
        losses: Vec<f32>,
        /// Steps taken in all after this chunk.
        steps: u64,
        /// Milliseconds the chunk's training steps took (evaluation excluded).
        train_ms: f64,
        /// A fresh evaluation, when one was due (every half second, and after a single step).
        evaluation: Option<Evaluation>,
    },
    /// The engine refused (an error, not a panic); the worker goes on answering.
    Failed { generation: u32, message: String },
    /// The worker panicked and stops: nothing more will come from it.
    Crashed { message: String },
}

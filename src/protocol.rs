//! Messages between the page and the worker. gloo-worker encodes them with bincode.
//!
//! One [`Request::Trace`] is answered by [`Response::Started`], one [`Response::Stage`] per
//! stage as soon as the worker has computed it, then [`Response::Finished`]; or by
//! [`Response::Failed`] at any point. Every response names the run it belongs to.

use serde::{Deserialize, Serialize};
use skipscope_engine::model::StageKind;
use skipscope_engine::ModelConfig;
use std::fmt;

/// Page to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Trace one synthetic image through a randomly initialised (untrained) model.
    Trace(TraceRequest),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRequest {
    /// Chosen by the page; echoed in every response.
    pub run: u32,
    pub config: ModelConfig,
    /// Seed of the random weights.
    pub seed: u64,
    /// Input size; both sides must be multiples of `2^depth`.
    pub height: usize,
    pub width: usize,
}

/// Worker to page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The model is ready (built, or reused from an earlier run with the same config and seed).
    Started {
        run: u32,
        model: ModelSummary,
    },
    /// One stage of the forward pass, in network order.
    Stage {
        run: u32,
        stage: StageSummary,
    },
    /// The forward pass is done; `forward_ms` counts every stage.
    Finished {
        run: u32,
        forward_ms: f64,
    },
    Failed {
        run: u32,
        message: String,
    },
}

impl Response {
    pub fn run(&self) -> u32 {
        match self {
            Response::Started { run, .. } | Response::Stage { run, .. } | Response::Finished { run, .. } | Response::Failed { run, .. } => *run,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// E.g. `transposed-add`.
    pub variant: String,
    pub parameters: usize,
    /// Whether the model of an earlier run (same config and seed) was reused.
    pub reused: bool,
    /// Time to build the model; zero when it was reused.
    pub build_ms: f64,
    /// Always true for now: no trained weights are loaded yet.
    pub random_weights: bool,
}

/// What the page shows of one stage (the maps themselves stay in the worker for now).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// `input`, `enc.k`, `pool.k`, `bottleneck`, `dec.k`, `head`.
    pub name: String,
    pub kind: StageKind,
    /// Resolution level: the map is `H / 2^level` by `W / 2^level`.
    pub level: usize,
    pub shape: MapShape,
    /// Time from the previous stage's report to this one's (computation and copy).
    pub ms: f64,
}

/// The shape of one stage's map for one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl fmt::Display for MapShape {
    /// `C x H x W`, e.g. `16 x 96 x 128`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x {} x {}", self.channels, self.height, self.width)
    }
}

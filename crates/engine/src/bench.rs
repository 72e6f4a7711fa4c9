//! Speed measurement shared by the native command (`skipscope bench`) and the wasm
//! benchmark in headless Chromium. The caller supplies the clock, so the engine stays
//! free of platform APIs.

use crate::{ModelConfig, Result};
use std::fmt;

#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub model: ModelConfig,
    pub height: usize,
    pub width: usize,
    /// Timed repetitions per measurement (the minimum is reported).
    pub repeats: usize,
    /// Also time backward passes (training).
    pub backward: bool,
}

#[derive(Clone, Debug)]
pub struct LayerTiming {
    pub name: String,
    /// Input shape `N x H x W x C`.
    pub shape: String,
    pub gflop: f64,
    pub forward_ms: f64,
    pub backward_ms: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct BenchReport {
    pub config: BenchConfig,
    pub layers: Vec<LayerTiming>,
    pub model: LayerTiming,
}

/// Times representative layers and the whole model. `now_ms` is a monotonic clock in ms.
pub fn run(config: &BenchConfig, now_ms: &dyn Fn() -> f64) -> Result<BenchReport> {
    let _ = (config, now_ms);
    todo!("implemented next")
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        Ok(())
    }
}

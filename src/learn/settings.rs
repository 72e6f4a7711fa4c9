//! The "train it yourself" view's settings and their place in the URL:
//! `?learn=1&task=lines&up=transposed&lr=0.01&size=64&seed=1`. Unknown or out-of-range
//! values fall back to the defaults. [`parse`] and [`query`] are pure.

use serde::{Deserialize, Serialize};
use skipscope_engine::synthetic::Task;
use skipscope_engine::{Skip, Upsample};

/// Encoder stages (poolings) of every model of the view.
pub const DEPTH: usize = 3;
/// Channels of the first encoder stage.
pub const WIDTH: usize = 8;
/// Training images per step.
pub const BATCH: usize = 4;
/// The image sizes offered (multiples of `2^DEPTH`).
pub const SIZES: [usize; 3] = [32, 64, 128];
/// The learning rates offered.
pub const RATES: [f64; 4] = [0.001, 0.003, 0.01, 0.03];
/// The largest seed the URL accepts.
pub const MAX_SEED: u64 = 999_999;
/// The three models trained side by side, in display order.
pub const SKIPS: [Skip; 3] = [Skip::None, Skip::Add, Skip::Concat];

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub task: Task,
    pub upsample: Upsample,
    /// Adam's learning rate, one of [`RATES`].
    pub lr: f64,
    /// Images are `size x size`, one of [`SIZES`].
    pub size: usize,
    /// Seeds the initial weights, the training batches and the held-out images.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { task: Task::Lines, upsample: Upsample::Transposed, lr: 0.01, size: 64, seed: 1 }
    }
}

/// Whether the query asks for the view (`learn=1`).
pub fn requested(search: &str) -> bool {
    pairs(search).any(|(k, v)| k == "learn" && v == "1")
}

fn pairs(search: &str) -> impl Iterator<Item = (&str, &str)> {
    search.trim_start_matches('?').split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// The settings a query asks for; the first value of a key counts, others fall back to
/// the default. Values are plain names and numbers, so no escape needs decoding.
pub fn parse(search: &str) -> Settings {
    let pairs: Vec<(&str, &str)> = pairs(search).collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let d = Settings::default();
    Settings {
        task: get("task").and_then(|t| t.parse().ok()).unwrap_or(d.task),
        upsample: get("up").and_then(|u| u.parse().ok()).unwrap_or(d.upsample),
        lr: get("lr").and_then(|l| l.parse::<f64>().ok()).and_then(|l| RATES.into_iter().find(|r| (r - l).abs() < 1e-12)).unwrap_or(d.lr),
        size: get("size").and_then(|s| s.parse().ok()).filter(|s| SIZES.contains(s)).unwrap_or(d.size),
        seed: get("seed").and_then(|s| s.parse().ok()).filter(|s| *s <= MAX_SEED).unwrap_or(d.seed),
    }
}

/// The query of the view with `settings`, `?` first.
pub fn query(s: &Settings) -> String {
    format!("?learn=1&task={}&up={}&lr={}&size={}&seed={}", s.task, s.upsample, s.lr, s.size, s.seed)
}

/// Reads the current location's query.
pub fn read_location() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Replaces the current history entry's query (no reload, no new entry).
pub fn write_location(settings: &Settings) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&query(settings)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_values_fall_back() {
        let s = Settings { task: Task::Mixed, upsample: Upsample::Unpool, lr: 0.003, size: 128, seed: 42 };
        assert_eq!(query(&s), "?learn=1&task=mixed&up=unpool&lr=0.003&size=128&seed=42");
        assert_eq!(parse(&query(&s)), s);
        assert!(requested(&query(&s)));
        assert!(!requested("?data=ccp") && !requested("?learn=0"));
        assert_eq!(parse("?learn=1&task=blobs&up=sideways&lr=5&size=65&seed=-1"), Settings::default());
        assert_eq!(parse("?seed=1000000").seed, 1);
        assert_eq!(parse("?lr=1e-2&lr=0.03").lr, 0.01, "the first value counts, written any way");
    }
}

//! `models/manifest.json`, as the trainer writes it (`crates/train/src/export.rs`).

use serde::{Deserialize, Serialize};
use skipscope_engine::metrics::Scores;
use skipscope_engine::{Skip, Upsample};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub models: Vec<ManifestEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `dataset-upsample-skip`, e.g. `camvid-transposed-add`.
    pub id: String,
    pub dataset: String,
    pub upsample: Upsample,
    pub skip: Skip,
    /// Relative to `models/`.
    pub file: String,
    pub bytes: usize,
    pub parameters: usize,
    /// `[height, width]` the model was trained at.
    pub working_size: [usize; 2],
    pub epochs: usize,
    pub train_seconds: f64,
    /// Test-set scores at full resolution (fractions).
    pub test: Scores,
}

/// Parses the manifest; only format version 1 is understood.
pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| format!("models/manifest.json is not valid: {e}"))?;
    if m.format_version != 1 {
        return Err(format!("models/manifest.json has format version {}, this page reads 1", m.format_version));
    }
    Ok(m)
}

//! Publishing a trained run to the page: the best checkpoint evaluated on the test split
//! at full resolution, saved as F16 with those metrics, and listed in `manifest.json`.

use crate::data;
use crate::evaluate::{evaluate, Resolution};
use crate::trainer::{write_atomic, Run};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use skipscope_engine::weights::{self, Storage};
use std::path::Path;

/// `www/models/manifest.json`: every published model, read by the page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub models: Vec<ManifestEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `dataset-upsample-skip`, e.g. `camvid-transposed-add`.
    pub id: String,
    pub dataset: String,
    pub upsample: String,
    pub skip: String,
    pub file: String,
    pub bytes: usize,
    pub parameters: usize,
    /// Working size `[height, width]`.
    pub working_size: [usize; 2],
    pub epochs: usize,
    pub train_seconds: f64,
    /// Test-set scores at full resolution (fractions).
    pub test: skipscope_engine::metrics::Scores,
}

pub fn export(run_dir: &Path, data_dir: &Path, to: &Path) -> Result<()> {
    let run = Run { dir: run_dir.to_path_buf() };
    let recipe = run.recipe()?;
    let state = run.state()?;
    let bytes = std::fs::read(run.best_weights()).with_context(|| format!("reading {}", run.best_weights().display()))?;
    let (mut model, mut meta) = weights::load(&bytes)?;
    let parameters = model.parameter_count();
    let mut folded = model.clone();
    folded.fold_batch_norm();
    let test = data::load_split(data_dir, "test", meta.config.n_classes, Some(data::CAMVID_VOID), None)?;
    let scores = evaluate(&folded, &test, &meta.normalization, recipe.height, recipe.width, Resolution::Full)?;
    eprintln!("test: G {:.3} C {:.3} mIoU {:.3} BF {:.3}", scores.g, scores.c, scores.miou, scores.bf.unwrap_or(f64::NAN));
    meta.metrics = serde_json::json!({ "test": scores, "best_epoch": state.best_epoch, "epochs": state.epochs_done });
    let id = format!("{}-{}", recipe.dataset, meta.config.variant());
    let file = format!("{id}.safetensors");
    std::fs::create_dir_all(to)?;
    let out = weights::save(&mut model, &meta, Storage::F16)?;
    write_atomic(&to.join(&file), &out)?;
    let manifest_path = to.join("manifest.json");
    let mut manifest: Manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("parsing {}", manifest_path.display()))?,
        Err(_) => Manifest { format_version: 1, models: Vec::new() },
    };
    manifest.models.retain(|m| m.id != id);
    manifest.models.push(ManifestEntry {
        id: id.clone(),
        dataset: recipe.dataset.clone(),
        upsample: meta.config.upsample.name().into(),
        skip: meta.config.skip.name().into(),
        file,
        bytes: out.len(),
        parameters,
        working_size: [recipe.height, recipe.width],
        epochs: state.epochs_done,
        train_seconds: state.train_seconds,
        test: scores,
    });
    manifest.models.sort_by(|a, b| a.id.cmp(&b.id));
    write_atomic(&manifest_path, serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    eprintln!("published {id} ({} bytes) to {}", out.len(), to.display());
    Ok(())
}

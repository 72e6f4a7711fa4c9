//! Publishing a trained run to the page: the best checkpoint evaluated on the test split
//! at full resolution, saved as F16 with those metrics, and listed in `manifest.json`.

use crate::data;
use crate::evaluate::{evaluate, Resolution};
use crate::trainer::{write_atomic, Run};
use anyhow::{Context, Result};
use skipscope_engine::catalog::{Manifest, ManifestEntry};
use skipscope_engine::weights::{self, Storage};
use std::path::Path;

/// `data_dir`: the dataset's folder, by default `../shared/data/<the run's dataset>`.
pub fn export(run_dir: &Path, data_dir: Option<&Path>, to: &Path) -> Result<()> {
    let run = Run { dir: run_dir.to_path_buf() };
    let recipe = run.recipe()?;
    let state = run.state()?;
    let bytes = std::fs::read(run.best_weights()).with_context(|| format!("reading {}", run.best_weights().display()))?;
    let (mut model, mut meta) = weights::load(&bytes)?;
    let parameters = model.parameter_count();
    // Score what the page will load: the F16 file, read back and folded.
    let (mut published, _) = weights::load(&weights::save(&mut model, &meta, Storage::F16)?).context("the F16 weights do not load back")?;
    published.fold_batch_norm();
    let dataset = data::dataset_named(&recipe.dataset)?;
    let test = data::load(dataset, &data_dir.map_or_else(|| data::default_root(dataset), Path::to_path_buf), "test", None)?;
    crate::evaluate::check_compatible(&meta, &test)?;
    let scores = evaluate(&published, &test, &meta.normalization, recipe.height, recipe.width, Resolution::Full)?;
    eprintln!("test: G {:.3} C {:.3} mIoU {:.3} BF {:.3}", scores.g, scores.c, scores.miou, scores.bf.unwrap_or(f64::NAN));
    meta.metrics = serde_json::json!({ "test": scores, "best_epoch": state.best_epoch, "epochs": state.epochs_done });
    let id = format!("{}-{}", recipe.dataset, meta.config.variant());
    let file = format!("{id}.safetensors");
    std::fs::create_dir_all(to)?;
    let out = weights::save(&mut model, &meta, Storage::F16)?;
    write_atomic(&to.join(&file), &out)?;
    let manifest_path = to.join("manifest.json");
    let mut manifest = match std::fs::read(&manifest_path) {
        Ok(bytes) => Manifest::parse(&bytes).with_context(|| format!("parsing {}", manifest_path.display()))?,
        Err(_) => Manifest::new(),
    };
    manifest.upsert(ManifestEntry {
        id: id.clone(),
        dataset: recipe.dataset.clone(),
        upsample: meta.config.upsample,
        skip: meta.config.skip,
        file,
        bytes: out.len(),
        parameters,
        working_size: [recipe.height, recipe.width],
        epochs: state.epochs_done,
        train_seconds: state.train_seconds,
        test: scores,
    });
    write_atomic(&manifest_path, serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    eprintln!("published {id} ({} bytes) to {}", out.len(), to.display());
    Ok(())
}

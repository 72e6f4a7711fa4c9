//! Publishing a trained run to the page: the best checkpoint evaluated on the test split
//! at full resolution, saved as F16 with those metrics, and listed in `manifest.json`.
//! Runs can be exported to a staging folder first and [`publish`]ed together later, so
//! the page never lists models of two recipes side by side.

use crate::data;
use crate::evaluate::{evaluate, Resolution};
use crate::trainer::{write_atomic, Run};
use anyhow::{Context, Result};
use skipscope_engine::catalog::{self, Manifest, ManifestEntry};
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
    let dataset = recipe.dataset;
    catalog::check_suits(dataset, meta.config.variant(), &meta)?;
    let test = data::load(dataset, &data_dir.map_or_else(|| data::default_root(dataset), Path::to_path_buf), "test", None)?;
    let scores = evaluate(&published, &test, &meta.normalization, recipe.height, recipe.width, Resolution::Full)?;
    eprintln!("test: G {:.3} C {:.3} mIoU {:.3} BF {:.3}", scores.g, scores.c, scores.miou, scores.bf.unwrap_or(f64::NAN));
    meta.metrics = serde_json::json!({ "test": scores, "best_epoch": state.best_epoch, "epochs": state.epochs_done });
    let id = format!("{}-{}", recipe.dataset, meta.config.variant());
    let file = format!("{id}.safetensors");
    std::fs::create_dir_all(to)?;
    let out = weights::save(&mut model, &meta, Storage::F16)?;
    write_atomic(&to.join(&file), &out)?;
    let mut manifest = read_manifest(to, false)?;
    manifest.upsert(ManifestEntry {
        id: id.clone(),
        dataset,
        upsample: meta.config.upsample,
        skip: meta.config.skip,
        file,
        bytes: out.len(),
        sha256: Some(catalog::sha256_hex(&out)),
        parameters,
        working_size: [recipe.height, recipe.width],
        epochs: state.epochs_done,
        train_seconds: state.train_seconds,
        test: scores,
    });
    write_manifest(to, &manifest)?;
    eprintln!("exported {id} ({} bytes) to {}", out.len(), to.display());
    Ok(())
}

/// Copies the models `ids` (all of them when empty) from the exported folder `from` to
/// `to`: their weights files and manifest entries, replacing entries with the same id.
/// Every requested model is checked (listed, file present with the listed size) before
/// anything in `to` changes.
pub fn publish(from: &Path, to: &Path, ids: &[String]) -> Result<Vec<String>> {
    let staged = read_manifest(from, true)?;
    let chosen: Vec<&ManifestEntry> = if ids.is_empty() {
        staged.models.iter().collect()
    } else {
        ids.iter()
            .map(|id| staged.models.iter().find(|m| &m.id == id).with_context(|| format!("{} lists no model {id}", from.join("manifest.json").display())))
            .collect::<Result<_>>()?
    };
    let files = chosen
        .iter()
        .map(|entry| {
            let path = from.join(&entry.file);
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            entry.verify(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(bytes)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut manifest = read_manifest(to, false)?;
    std::fs::create_dir_all(to)?;
    for (entry, bytes) in chosen.iter().zip(&files) {
        write_atomic(&to.join(&entry.file), bytes)?;
        // Staged before hashes were written: the page's copy gets one.
        manifest.upsert(ManifestEntry { sha256: Some(catalog::sha256_hex(bytes)), ..(*entry).clone() });
    }
    write_manifest(to, &manifest)?;
    Ok(chosen.iter().map(|m| m.id.clone()).collect())
}

/// Writes every model's length and SHA-256 into `dir`'s manifest from the files there (for
/// manifests written before hashes were, or after a weights file was replaced by hand).
/// Returns the ids whose entry changed.
pub fn hash(dir: &Path) -> Result<Vec<String>> {
    let mut manifest = read_manifest(dir, true)?;
    let mut changed = Vec::new();
    for entry in &mut manifest.models {
        let path = dir.join(&entry.file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let sha256 = Some(catalog::sha256_hex(&bytes));
        if entry.bytes != bytes.len() || entry.sha256 != sha256 {
            (entry.bytes, entry.sha256) = (bytes.len(), sha256);
            changed.push(entry.id.clone());
        }
    }
    write_manifest(dir, &manifest)?;
    Ok(changed)
}

/// The manifest in `dir`; a missing one is empty unless `required`.
fn read_manifest(dir: &Path, required: bool) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes).with_context(|| format!("parsing {}", path.display())),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    write_atomic(&dir.join("manifest.json"), serde_json::to_string_pretty(manifest)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skipscope_engine::catalog::Dataset;
    use skipscope_engine::metrics::Scores;
    use skipscope_engine::{Skip, Upsample};

    fn stage(dir: &Path, id: &str, skip: Skip, miou: f64) -> ManifestEntry {
        let file = format!("{id}.safetensors");
        let bytes = id.as_bytes().to_vec();
        std::fs::write(dir.join(&file), &bytes).unwrap();
        let test = Scores { g: 0.5, c: 0.5, miou, bf: None, iou: vec![], pixels: 1, images: 1 };
        let entry = ManifestEntry {
            id: id.into(),
            dataset: Dataset::Camvid,
            upsample: Upsample::Transposed,
            skip,
            file,
            bytes: bytes.len(),
            sha256: None,
            parameters: 1,
            working_size: [192, 256],
            epochs: 80,
            train_seconds: 1.0,
            test,
        };
        let mut manifest = read_manifest(dir, false).unwrap();
        manifest.upsert(entry.clone());
        write_manifest(dir, &manifest).unwrap();
        entry
    }

    #[test]
    fn publish_copies_the_chosen_models_and_keeps_the_others() {
        let (staging, page) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let add = stage(staging.path(), "camvid-transposed-add", Skip::Add, 0.46);
        stage(staging.path(), "camvid-transposed-none", Skip::None, 0.44);
        stage(page.path(), "camvid-transposed-add", Skip::Add, 0.42);
        stage(page.path(), "ccp-transposed-add", Skip::Add, 0.63);

        let published = publish(staging.path(), page.path(), &["camvid-transposed-add".into()]).unwrap();
        assert_eq!(published, ["camvid-transposed-add"]);
        let manifest = read_manifest(page.path(), true).unwrap();
        let ids: Vec<&str> = manifest.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["camvid-transposed-add", "ccp-transposed-add"]);
        // Published with the hash of what was copied.
        assert_eq!(manifest.models[0], ManifestEntry { sha256: Some(catalog::sha256_hex(add.id.as_bytes())), ..add.clone() });
        assert_eq!(std::fs::read(page.path().join(&add.file)).unwrap(), add.id.as_bytes());

        assert_eq!(publish(staging.path(), page.path(), &[]).unwrap().len(), 2);
        assert_eq!(read_manifest(page.path(), true).unwrap().models.len(), 3);
    }

    #[test]
    fn publish_changes_nothing_when_a_model_is_missing_or_damaged() {
        let (staging, page) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let none = stage(staging.path(), "camvid-transposed-none", Skip::None, 0.44);
        stage(page.path(), "camvid-transposed-none", Skip::None, 0.40);
        let before = std::fs::read(page.path().join("manifest.json")).unwrap();

        let err = publish(staging.path(), page.path(), &["camvid-transposed-none".into(), "camvid-unpool-add".into()]).unwrap_err();
        assert!(err.to_string().contains("lists no model camvid-unpool-add"), "{err:#}");
        std::fs::write(staging.path().join(&none.file), b"cut").unwrap();
        let err = publish(staging.path(), page.path(), &[]).unwrap_err();
        assert!(err.to_string().contains("arrived with 3 bytes instead of 22"), "{err:#}");
        assert_eq!(std::fs::read(page.path().join("manifest.json")).unwrap(), before);
        assert_eq!(std::fs::read(page.path().join(&none.file)).unwrap(), none.id.as_bytes());
        assert!(publish(&page.path().join("nowhere"), page.path(), &[]).is_err());
    }

    #[test]
    fn hash_writes_every_files_length_and_sha256() {
        let page = tempfile::tempdir().unwrap();
        let add = stage(page.path(), "camvid-transposed-add", Skip::Add, 0.46);
        stage(page.path(), "camvid-transposed-none", Skip::None, 0.44);
        assert_eq!(hash(page.path()).unwrap().len(), 2);
        let manifest = read_manifest(page.path(), true).unwrap();
        for m in &manifest.models {
            assert_eq!(m.verify(m.id.as_bytes()), Ok(()), "{}", m.id);
        }
        assert_eq!(hash(page.path()).unwrap().len(), 0, "nothing changed");
        std::fs::write(page.path().join(&add.file), b"replaced").unwrap();
        assert_eq!(hash(page.path()).unwrap(), ["camvid-transposed-add"]);
        assert_eq!(read_manifest(page.path(), true).unwrap().models[0].bytes, 8);
    }
}

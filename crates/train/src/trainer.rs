//! The training loop: data-parallel over the batch on `threads` cores, a cosine learning
//! rate, per-epoch validation, a JSON-lines log, a checkpoint every epoch, `--resume`,
//! and the best checkpoint by validation mIoU.
//!
//! Data parallelism follows PyTorch's DistributedDataParallel with `threads` ranks: each
//! shard of the batch computes its own mean loss and batch-norm statistics (no synchronised
//! batch norm), and the gradients are averaged. That is why `threads` is part of the recipe.
//!
//! Reproducible: the shuffle and augmentation of epoch `e` (counted from 0) come from
//! `Rng::new(seed + e + 1)`, and the shards of a batch are combined in a fixed order, so a
//! resumed run equals an uninterrupted one (tested).
//!
//! A run directory holds `recipe.json`, `state.json`, `last.safetensors` (+ `last.adam.safetensors`),
//! `best.safetensors` and `log.jsonl`.

use crate::augment::{self, Window};
use crate::data::{median_frequency_weights, Split};
use crate::evaluate::{evaluate, Resolution};
use anyhow::{bail, ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array3, Array4, ArrayD};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use skipscope_engine::catalog::Dataset;
use skipscope_engine::layers::loss::CrossEntropy;
use skipscope_engine::metrics::Scores;
use skipscope_engine::optim::Adam;
use skipscope_engine::param::{Module, TensorMut};
use skipscope_engine::rng::Rng;
use skipscope_engine::training::loss_and_gradients;
use skipscope_engine::weights::{self, ClassInfo, ModelMeta, Normalization, Storage};
use skipscope_engine::{Model, ModelConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything that defines a training run; stored in `recipe.json` and in the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub dataset: Dataset,
    pub model: ModelConfig,
    /// Working size (height, width) of training crops and of inference.
    pub height: usize,
    pub width: usize,
    pub epochs: usize,
    pub batch: usize,
    /// Peak learning rate (AdamW), decayed by a cosine to 1% of it.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Random zoom of training crops, up to this factor.
    pub max_zoom: f64,
    pub class_weighting: ClassWeighting,
    pub seed: u64,
    pub threads: usize,
    /// Only the first N images of each split (smoke runs); `None` for all.
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Recipe {
    pub fn validate(&self) -> Result<()> {
        self.model.check_input([1, self.height, self.width, self.model.in_channels])?;
        if self.batch == 0 || self.threads == 0 || self.epochs == 0 {
            bail!("batch, threads and epochs must be at least 1");
        }
        if !(self.max_zoom.is_finite() && self.max_zoom >= 1.0) {
            bail!("max_zoom must be a finite number >= 1, got {}", self.max_zoom);
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("lr must be positive and weight_decay non-negative");
        }
        Ok(())
    }
}

/// How the loss weights the classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClassWeighting {
    /// SegNet's median frequency balancing over the training labels.
    MedianFrequency,
    Uniform,
}

/// Progress between epochs (`state.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: usize,
    pub best_epoch: Option<usize>,
    pub best_val_miou: f64,
    pub train_seconds: f64,
}

/// One line of `log.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub lr: f64,
    pub loss: f64,
    pub images_per_second: f64,
    pub seconds: f64,
    pub val: Scores,
}

/// The splits a run trains and validates on, and what the weights file says about them.
pub struct TrainingData<'a> {
    pub train: &'a Split,
    pub val: &'a Split,
    pub classes: Vec<ClassInfo>,
    pub normalization: Normalization,
}

fn cosine_lr(recipe: &Recipe, step: usize, total: usize) -> f64 {
    let t = step as f64 / total.max(1) as f64;
    let floor = 0.01 * recipe.lr;
    floor + 0.5 * (recipe.lr - floor) * (1.0 + (std::f64::consts::PI * t).cos())
}

/// One optimisation step with the batch split into `threads` shards, each run on its own
/// replica of the model (its own mean loss and batch-norm statistics, as in PyTorch DDP);
/// gradients and the running batch-norm statistics are averaged, weighted by shard size.
pub fn parallel_step(
    model: &mut Model<f32>,
    optimizer: &mut Adam<f32>,
    loss: &CrossEntropy,
    images: &Array4<f32>,
    labels: &Array3<u8>,
    threads: usize,
) -> Result<f32> {
    let n = images.dim().0;
    let shards = threads.clamp(1, n.max(1));
    let bounds: Vec<(usize, usize)> = (0..shards).map(|i| (i * n / shards, (i + 1) * n / shards)).collect();
    let results: Vec<Result<(f32, Model<f32>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .iter()
            .map(|&(a, b)| {
                let mut replica = model.clone();
                scope.spawn(move || -> Result<(f32, Model<f32>)> {
                    let x = images.slice(s![a..b, .., .., ..]).to_owned();
                    let y = labels.slice(s![a..b, .., ..]).to_owned();
                    let value = loss_and_gradients(&mut replica, loss, &x, &y)?;
                    Ok((value, replica))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("training threads do not panic")).collect()
    });
    let mut replicas = results.into_iter().collect::<Result<Vec<_>>>()?;
    let fractions: Vec<f32> = bounds.iter().map(|(a, b)| (b - a) as f32 / n as f32).collect();
    // Per replica, in visiting order: each parameter's gradient and each buffer's value.
    let mut shards: Vec<Vec<ArrayD<f32>>> = Vec::new();
    for (_, replica) in &mut replicas {
        let mut tensors = Vec::new();
        replica.visit("", &mut |_, t| match t {
            TensorMut::Param(p) => tensors.push(std::mem::take(&mut p.grad)),
            TensorMut::Buffer(b) => tensors.push(std::mem::take(b)),
        });
        shards.push(tensors);
    }
    let mut i = 0;
    model.visit("", &mut |_, t| {
        let target = match t {
            TensorMut::Param(p) => &mut p.grad,
            TensorMut::Buffer(b) => b,
        };
        target.fill(0.0);
        for (shard, f) in shards.iter().zip(&fractions) {
            target.scaled_add(*f, &shard[i]);
        }
        i += 1;
    });
    optimizer.step(model);
    Ok(replicas.iter().zip(&fractions).map(|((l, _), f)| l * f).sum())
}

fn meta(recipe: &Recipe, data: &TrainingData, metrics: serde_json::Value) -> ModelMeta {
    ModelMeta {
        config: recipe.model,
        classes: data.classes.clone(),
        normalization: data.normalization.clone(),
        recipe: serde_json::to_value(recipe).expect("recipe serialises"),
        metrics,
    }
}

fn save_adam(optimizer: &Adam<f32>, path: &Path) -> Result<()> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (m, v)) in optimizer.moments().iter().enumerate() {
        for (kind, t) in [("m", m), ("v", v)] {
            tensors.push((format!("{i:04}.{kind}"), t.shape().to_vec(), t.iter().flat_map(|x| x.to_le_bytes()).collect()));
        }
    }
    let views = tensors
        .iter()
        .map(|(n, s, d)| Ok((n.clone(), TensorView::new(Dtype::F32, s.clone(), d)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let meta = [("steps".to_string(), optimizer.steps.to_string())].into_iter().collect();
    write_atomic(path, &safetensors::tensor::serialize(views, &Some(meta))?)
}

/// Restores the optimiser state saved by [`save_adam`], checking it against `model`.
fn load_adam(optimizer: &mut Adam<f32>, model: &mut Model<f32>, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file = SafeTensors::deserialize(&bytes).with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)?;
    let steps: u64 = header.metadata().as_ref().and_then(|m| m.get("steps")).context("optimiser state has no step count")?.parse()?;
    let mut shapes = Vec::new();
    model.visit_params("", &mut |_, p| shapes.push(p.value.shape().to_vec()));
    ensure!(file.names().len() == 2 * shapes.len(), "{} holds {} moments for {} parameters", path.display(), file.names().len(), 2 * shapes.len());
    let read = |name: String, shape: &[usize]| -> Result<ArrayD<f32>> {
        let t = file.tensor(&name).with_context(|| format!("optimiser state lacks {name}"))?;
        ensure!(t.dtype() == Dtype::F32 && t.shape() == shape, "optimiser tensor {name} is {:?} {:?}, expected F32 {shape:?}", t.dtype(), t.shape());
        let data = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(ArrayD::from_shape_vec(t.shape().to_vec(), data)?)
    };
    let moments =
        shapes.iter().enumerate().map(|(i, shape)| Ok((read(format!("{i:04}.m"), shape)?, read(format!("{i:04}.v"), shape)?))).collect::<Result<Vec<_>>>()?;
    optimizer.restore(steps, moments);
    Ok(())
}

/// Writes through a temporary file and a rename, so an interrupted write never leaves a
/// half-written checkpoint.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

pub struct Run {
    pub dir: PathBuf,
}

impl Run {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn state(&self) -> Result<TrainState> {
        let text = std::fs::read_to_string(self.path("state.json")).with_context(|| format!("no state.json in {}", self.dir.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn recipe(&self) -> Result<Recipe> {
        let text = std::fs::read_to_string(self.path("recipe.json")).with_context(|| format!("no recipe.json in {}", self.dir.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn best_weights(&self) -> PathBuf {
        self.path("best.safetensors")
    }

    pub fn last_weights(&self) -> PathBuf {
        self.path("last.safetensors")
    }
}

/// Trains (or, with `resume`, continues) the run in `dir` until `recipe.epochs`, or until
/// `stop_after` more epochs. Returns the final state.
pub fn train(recipe: &Recipe, data: &TrainingData, dir: &Path, resume: bool, stop_after: Option<usize>, quiet: bool) -> Result<TrainState> {
    recipe.validate()?;
    ensure!(!data.train.samples.is_empty() && !data.val.samples.is_empty(), "the training and validation splits must not be empty");
    let run = Run { dir: dir.to_path_buf() };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut model = Model::<f32>::new(recipe.model, recipe.seed)?;
    let mut optimizer = Adam::new(recipe.lr, recipe.weight_decay);
    optimizer.decoupled = true;
    let mut state = TrainState::default();
    if resume && run.path("state.json").exists() {
        let saved = run.recipe()?;
        if &saved != recipe {
            bail!("{} was trained with a different recipe; resume with the same options (saved: {})", dir.display(), serde_json::to_string(&saved)?);
        }
        state = run.state()?;
        let bytes = std::fs::read(run.last_weights())?;
        let (loaded, meta) = weights::load(&bytes).with_context(|| format!("loading {}", run.last_weights().display()))?;
        model = loaded;
        load_adam(&mut optimizer, &mut model, &run.path("last.adam.safetensors"))?;
        let steps = (state.epochs_done * data.train.samples.len().div_ceil(recipe.batch)) as u64;
        // The files are written one after the other; an interruption between two leaves
        // them from different epochs, which resuming must not mix.
        if meta.metrics["epoch"] != state.epochs_done || optimizer.steps != steps {
            bail!(
                "{}: the checkpoint files disagree (state after epoch {}, weights after epoch {}, optimiser after {} of {steps} steps); the last epoch was interrupted while saving: restore the files or start a new run",
                dir.display(),
                state.epochs_done,
                meta.metrics["epoch"],
                optimizer.steps
            );
        }
        if !quiet {
            eprintln!("resuming {} after epoch {}", dir.display(), state.epochs_done);
        }
    } else {
        if run.path("state.json").exists() {
            bail!("{} already holds a run: pass --resume to continue it, or choose another --out", dir.display());
        }
        write_atomic(&run.path("recipe.json"), serde_json::to_string_pretty(recipe)?.as_bytes())?;
        std::fs::write(run.path("log.jsonl"), b"")?;
    }
    let class_weights = match recipe.class_weighting {
        ClassWeighting::MedianFrequency => median_frequency_weights(data.train),
        ClassWeighting::Uniform => vec![1.0; recipe.model.n_classes],
    };
    let loss = CrossEntropy { class_weights, ignore_label: data.train.void };
    let n = data.train.samples.len();
    let steps_per_epoch = n.div_ceil(recipe.batch);
    let total_steps = steps_per_epoch * recipe.epochs;
    let last_epoch = stop_after.map_or(recipe.epochs, |k| (state.epochs_done + k).min(recipe.epochs));
    for epoch in state.epochs_done..last_epoch {
        let started = Instant::now();
        let mut rng = Rng::new(recipe.seed.wrapping_add(epoch as u64 + 1));
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(n as u64) };
        bar.set_style(ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}").expect("valid template").progress_chars("=> "));
        bar.set_prefix(format!("{}/{}", epoch + 1, recipe.epochs));
        let (mut loss_sum, mut lr) = (0.0f64, recipe.lr);
        for (step, chunk) in order.chunks(recipe.batch).enumerate() {
            lr = cosine_lr(recipe, epoch * steps_per_epoch + step, total_steps);
            optimizer.lr = lr;
            let picks: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let sample = &data.train.samples[i];
                    let (h, w, _) = sample.image.dim();
                    (sample, Window::random(h, w, recipe.height, recipe.width, recipe.max_zoom, &mut rng))
                })
                .collect();
            let (images, labels) = augment::batch(&picks, recipe.height, recipe.width, &data.normalization, data.train.void.unwrap_or(0));
            let value = parallel_step(&mut model, &mut optimizer, &loss, &images, &labels, recipe.threads)?;
            loss_sum += value as f64 * chunk.len() as f64;
            bar.inc(chunk.len() as u64);
            let done = bar.position() as f64;
            bar.set_message(format!("loss {:.3} | {:.1} img/s", loss_sum / done, done / started.elapsed().as_secs_f64()));
        }
        bar.finish_and_clear();
        let train_seconds = started.elapsed().as_secs_f64();
        let mut folded = model.clone();
        folded.fold_batch_norm();
        let val = evaluate(&folded, data.val, &data.normalization, recipe.height, recipe.width, Resolution::Working)?;
        let log =
            EpochLog { epoch: epoch + 1, lr, loss: loss_sum / n as f64, images_per_second: n as f64 / train_seconds, seconds: train_seconds, val: val.clone() };
        state.epochs_done = epoch + 1;
        state.train_seconds += train_seconds;
        let metrics = serde_json::json!({ "epoch": epoch + 1, "val": val });
        let bytes = weights::save(&mut model, &meta(recipe, data, metrics), Storage::F32)?;
        if val.miou > state.best_val_miou || state.best_epoch.is_none() {
            state.best_val_miou = val.miou;
            state.best_epoch = Some(epoch + 1);
            write_atomic(&run.best_weights(), &bytes)?;
        }
        write_atomic(&run.last_weights(), &bytes)?;
        save_adam(&optimizer, &run.path("last.adam.safetensors"))?;
        write_atomic(&run.path("state.json"), serde_json::to_string_pretty(&state)?.as_bytes())?;
        let mut log_file = std::fs::OpenOptions::new().append(true).open(run.path("log.jsonl"))?;
        writeln!(log_file, "{}", serde_json::to_string(&log)?)?;
        if !quiet {
            eprintln!(
                "epoch {}/{}: loss {:.4}, {:.1} img/s, val G {:.3} C {:.3} mIoU {:.3} BF {:.3}{}",
                epoch + 1,
                recipe.epochs,
                log.loss,
                log.images_per_second,
                val.g,
                val.c,
                val.miou,
                val.bf.unwrap_or(f64::NAN),
                if state.best_epoch == Some(epoch + 1) { " (best)" } else { "" }
            );
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{load_split, tests::write_synthetic};
    use skipscope_engine::{Skip, Upsample};

    fn recipe(epochs: usize) -> Recipe {
        Recipe {
            dataset: Dataset::Camvid,
            model: ModelConfig { in_channels: 3, n_classes: 3, depth: 2, width: 4, upsample: Upsample::Transposed, skip: Skip::Add },
            height: 16,
            width: 16,
            epochs,
            batch: 3,
            lr: 1e-2,
            weight_decay: 1e-4,
            max_zoom: 1.5,
            class_weighting: ClassWeighting::MedianFrequency,
            seed: 5,
            threads: 2,
            limit: None,
        }
    }

    fn with_data(f: impl FnOnce(&TrainingData)) {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 7, 24, 1);
        write_synthetic(dir.path(), "val", 3, 24, 2);
        let train = load_split(dir.path(), "train", 3, None, None).unwrap();
        let val = load_split(dir.path(), "val", 3, None, None).unwrap();
        let classes = (0..3).map(|i| ClassInfo { name: format!("c{i}"), color: [i * 80, 0, 0] }).collect();
        f(&TrainingData { train: &train, val: &val, classes, normalization: Normalization::imagenet() });
    }

    #[test]
    fn one_epoch_writes_checkpoints_and_log() {
        with_data(|data| {
            let out = tempfile::tempdir().unwrap();
            let state = train(&recipe(1), data, out.path(), false, None, true).unwrap();
            assert_eq!(state.epochs_done, 1);
            let run = Run { dir: out.path().to_path_buf() };
            let (mut best, meta) = weights::load(&std::fs::read(run.best_weights()).unwrap()).unwrap();
            assert_eq!(meta.metrics["epoch"], 1);
            let log = std::fs::read_to_string(out.path().join("log.jsonl")).unwrap();
            let text = log.lines().next().unwrap();
            let line: EpochLog = serde_json::from_str(text).unwrap();
            assert!(line.loss.is_finite() && line.loss > 0.0, "loss {}", line.loss);
            // The logged and stored scores are those of the saved weights on the whole val split.
            best.fold_batch_norm();
            let r = recipe(1);
            let rescored = evaluate(&best, data.val, &data.normalization, r.height, r.width, Resolution::Working).unwrap();
            // (Compared as written: parsing JSON numbers back may move the last digit.)
            let written = format!("\"val\":{}}}", serde_json::to_string(&rescored).unwrap());
            assert!(text.ends_with(&written), "the log's validation scores are the saved weights' scores: {text} vs {written}");
            let stored: Scores = serde_json::from_value(meta.metrics["val"].clone()).unwrap();
            assert_eq!(stored, line.val, "the weights store the logged scores");
            assert_eq!((rescored.images, rescored.iou.len()), (data.val.samples.len(), 3));
            assert!(rescored.pixels > 0 && (0.0..=1.0).contains(&rescored.g) && (0.0..=1.0).contains(&rescored.miou));
            assert!(train(&recipe(1), data, out.path(), false, None, true).is_err(), "refuses to overwrite a run");
        });
    }

    #[test]
    fn the_published_models_recipes_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
        let manifest = skipscope_engine::catalog::Manifest::parse(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        for entry in &manifest.models {
            let meta = weights::read_meta(&std::fs::read(dir.join(&entry.file)).unwrap()).unwrap();
            let recipe: Recipe = serde_json::from_value(meta.recipe.clone()).unwrap_or_else(|e| panic!("{}: {e}", entry.id));
            assert_eq!((recipe.dataset, recipe.model), (entry.dataset, meta.config), "{}", entry.id);
            assert_eq!(serde_json::to_value(&recipe).unwrap(), meta.recipe, "{}: the recipe writes back as it was", entry.id);
        }
    }

    #[test]
    fn resumed_run_equals_uninterrupted_run() {
        with_data(|data| {
            let straight = tempfile::tempdir().unwrap();
            train(&recipe(3), data, straight.path(), false, None, true).unwrap();
            let split = tempfile::tempdir().unwrap();
            train(&recipe(3), data, split.path(), false, Some(1), true).unwrap();
            train(&recipe(3), data, split.path(), true, Some(1), true).unwrap();
            let state = train(&recipe(3), data, split.path(), true, None, true).unwrap();
            assert_eq!(state.epochs_done, 3);
            let tensors = |dir: &Path| {
                let (mut model, meta) = weights::load(&std::fs::read(dir.join("last.safetensors")).unwrap()).unwrap();
                let mut all = Vec::new();
                model.visit("", &mut |name, mut t| all.push((name.to_string(), t.value().clone())));
                (all, meta)
            };
            let (a, meta_a) = tensors(straight.path());
            let (b, meta_b) = tensors(split.path());
            assert!(a == b, "the resumed weights differ from the uninterrupted ones");
            assert_eq!(meta_a, meta_b, "validation scores differ");
            let mut other = recipe(3);
            other.lr = 0.5;
            assert!(train(&other, data, split.path(), true, None, true).is_err(), "a different recipe is refused");
        });
    }

    #[test]
    fn data_parallel_step_averages_the_shards() {
        with_data(|data| {
            let r = recipe(1);
            let picks: Vec<_> = data.train.samples.iter().take(4).map(|s| (s, Window::fit(24, 24, 16, 16))).collect();
            let loss = CrossEntropy::unweighted(3);
            let start = Model::<f32>::new(r.model, 3).unwrap();
            // Gradients and batch-norm statistics after one step (learning rate 0) on `picks`.
            let run = |picks: &[(&crate::data::Sample, Window)], threads: usize| {
                let (images, labels) = augment::batch(picks, 16, 16, &data.normalization, 0);
                let mut model = start.clone();
                parallel_step(&mut model, &mut Adam::new(0.0, 0.0), &loss, &images, &labels, threads).unwrap();
                let mut tensors = Vec::new();
                model.visit("", &mut |_, t| match t {
                    TensorMut::Param(p) => tensors.push(p.grad.clone()),
                    TensorMut::Buffer(b) => tensors.push(b.clone()),
                });
                tensors
            };
            let both = run(&picks, 2);
            let (first, second) = (run(&picks[..2], 1), run(&picks[2..], 1));
            for ((b, f), s) in both.iter().zip(&first).zip(&second) {
                let mean = (f + s) * 0.5;
                let err = (b - &mean).iter().fold(0f32, |m, v| m.max(v.abs()));
                assert!(err < 1e-6, "two shards differ from the mean of their single runs by {err}");
            }
        });
    }
}

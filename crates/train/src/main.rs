//! `skipscope`: the native command line for the engine: `train`, `eval`, `export`,
//! `publish`, `compare` and `bench`. See the README for the commands that produced the shipped models.

// The options' doc comments are the `--help` text, where `<dataset>` is a placeholder, not HTML.
#![allow(rustdoc::invalid_html_tags)]

/// Training frees and reallocates every activation map (megabytes each) on every step;
/// glibc's malloc handed much of that memory back to the kernel and faulted it in again
/// (1.7 M page faults in a 96-image epoch, against 40 k with mimalloc; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its index in `mi_option_e` (mimalloc.h, v3, the
/// version libmimalloc-sys builds), for which the sys crate has no constant. Its default is
/// 1000 ms (v3's src/options.c).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory that training frees: by default mimalloc hands pages that stay free for
/// 1 s back to the kernel, so a step after any pause of a second (an evaluation between
/// epochs, or the other framework's turn in scripts/bench_train_torch.py) faults every map
/// in again, zeroed by the kernel. Training reuses the same sizes every step, so keeping the
/// pages costs no more than the peak it already reaches.
fn keep_freed_memory() {
    // SAFETY: called first in `main`, before this program starts a thread (the function is
    // not thread safe); -1 is mimalloc's "no purging".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

mod augment;
mod compare;
mod data;
mod evaluate;
mod export;
mod trainer;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use skipscope_engine::bench::{self, BenchConfig};
use skipscope_engine::catalog::{self, Dataset};
use skipscope_engine::weights::{self, Normalization};
use skipscope_engine::{ModelConfig, Skip, Upsample};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "skipscope", about = "SkipScope: train, evaluate, export and benchmark segmentation models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ModelArgs {
    #[arg(long, default_value = "transposed")]
    upsample: Upsample,
    #[arg(long, default_value = "add")]
    skip: Skip,
    /// Number of poolings.
    #[arg(long, default_value_t = 4)]
    depth: usize,
    /// Channels of the first stage (doubles per stage).
    #[arg(long, default_value_t = 8)]
    channels: usize,
}

impl ModelArgs {
    fn config(&self, n_classes: usize) -> ModelConfig {
        ModelConfig { in_channels: 3, n_classes, depth: self.depth, width: self.channels, upsample: self.upsample, skip: self.skip }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train one variant, checkpointing every epoch.
    Train {
        #[arg(long, default_value = "camvid")]
        dataset: Dataset,
        /// The dataset's folder (default ../shared/data/<dataset>).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run directory (checkpoints, log).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Working height (default: the dataset's, 192 for CamVid, 256 for CCP).
        #[arg(long)]
        height: Option<usize>,
        /// Working width (default: 256 for CamVid, 176 for CCP).
        #[arg(long)]
        width: Option<usize>,
        #[arg(long, default_value_t = 60)]
        epochs: usize,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        #[arg(long, default_value_t = 2e-3)]
        lr: f64,
        #[arg(long, default_value_t = 1e-4)]
        weight_decay: f64,
        #[arg(long, default_value_t = 1.5)]
        max_zoom: f64,
        #[arg(long, value_enum, default_value = "median-frequency")]
        class_weighting: trainer::ClassWeighting,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Threads for data-parallel training (the batch is split between them).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Continue the run in --out from its last checkpoint.
        #[arg(long)]
        resume: bool,
        /// Stop after this many epochs in this invocation (resume later).
        #[arg(long)]
        epochs_now: Option<usize>,
        /// Use only the first N training and validation images (smoke runs).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Score weights on a split at full resolution (G, C, mIoU, BF, per-class IoU).
    Eval {
        /// The dataset's folder (default ../shared/data/<the weights' dataset>).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        weights: PathBuf,
        #[arg(long, default_value = "test")]
        split: String,
        /// Where to score: `full` (the images' own size, the published protocol) or
        /// `working` (labels resampled to the working size, as per-epoch validation does).
        #[arg(long, value_enum, default_value = "full")]
        at: evaluate::Resolution,
        /// Write the scores here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Evaluate a run's best checkpoint on the test split and write it to `--to` (default the page's www/models): F16
    /// weights with the measured metrics, and an entry in that folder's manifest.json
    /// (`publish` is the step that copies staged models to the page).
    Export {
        #[arg(long)]
        run: PathBuf,
        /// The dataset's folder (default ../shared/data/<the run's dataset>).
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, default_value = "www/models")]
        to: PathBuf,
    },
    /// Copy exported models (weights and manifest entries) from a staging folder to the
    /// page's, all checked before any is copied.
    Publish {
        /// A folder `export --to` wrote.
        #[arg(long)]
        from: PathBuf,
        #[arg(long, default_value = "www/models")]
        to: PathBuf,
        /// Model ids such as camvid-transposed-add (default: every model in --from).
        ids: Vec<String>,
    },
    /// Write every listed model's length and SHA-256 into a manifest from its files (the
    /// page verifies each download by both).
    Hash {
        #[arg(long, default_value = "www/models")]
        dir: PathBuf,
    },
    /// Draw the masks of several models on the same test images side by side (PNG).
    Compare {
        #[arg(long, default_value = "camvid")]
        dataset: Dataset,
        #[arg(long)]
        data: Option<PathBuf>,
        /// Weights files, one column each, in order.
        #[arg(long, num_args = 1.., required = true)]
        weights: Vec<PathBuf>,
        /// Test images to show, by file name.
        #[arg(long, num_args = 1.., required = true)]
        images: Vec<String>,
        #[arg(long)]
        out: PathBuf,
        /// Shrink factor of each mask.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
        scale: u32,
    },
    /// Time every layer and the whole model, forward and backward, on one core.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, default_value_t = 11)]
        classes: usize,
        #[arg(long, default_value_t = 192)]
        height: usize,
        #[arg(long, default_value_t = 256)]
        width: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// Skip the backward passes.
        #[arg(long)]
        forward_only: bool,
        /// A weights file: its config replaces the model options (the per-layer tables use
        /// random weights of that config; --infer-only runs the file's own weights).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Only time `Model::infer` (folded batch norm, warm buffers), driven by stdin: each
        /// line `n` runs n inferences and prints their times in ms on one line (for
        /// scripts/bench_onnx.py, which interleaves them with onnxruntime).
        #[arg(long)]
        infer_only: bool,
        /// Only time the trainer's step (`parallel_step`: forward, loss, backward on
        /// `--threads` shards, AdamW) on a fixed random batch of `--batch` images, driven by
        /// stdin like --infer-only (for scripts/bench_train_torch.py, which interleaves it
        /// with PyTorch).
        #[arg(long)]
        train_only: bool,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

fn main() -> Result<()> {
    keep_freed_memory();
    match Cli::parse().command {
        Command::Train {
            dataset,
            data,
            out,
            model,
            height,
            width,
            epochs,
            batch,
            lr,
            weight_decay,
            max_zoom,
            class_weighting,
            seed,
            threads,
            resume,
            epochs_now,
            limit,
        } => {
            let classes = dataset.classes();
            let data = data.unwrap_or_else(|| data::default_root(dataset));
            let [default_height, default_width] = dataset.working_size();
            let (height, width) = (height.unwrap_or(default_height), width.unwrap_or(default_width));
            let recipe = trainer::Recipe {
                dataset,
                model: model.config(classes.len()),
                height,
                width,
                epochs,
                batch,
                lr,
                weight_decay,
                max_zoom,
                class_weighting,
                seed,
                threads,
                limit,
            };
            recipe.validate()?;
            eprintln!("loading {} from {}", dataset.name(), data.display());
            let train = data::load(dataset, &data, "train", limit)?;
            let val = data::load(dataset, &data, "val", limit)?;
            let data = trainer::TrainingData { train: &train, val: &val, classes, normalization: Normalization::imagenet() };
            let state = trainer::train(&recipe, &data, &out, resume, epochs_now, false)?;
            eprintln!(
                "{} epochs done in {:.0} s; best validation mIoU {:.3} at epoch {:?}",
                state.epochs_done, state.train_seconds, state.best_val_miou, state.best_epoch
            );
        }
        Command::Eval { data, weights: path, split, at, json } => {
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let (mut model, meta) = weights::load(&bytes).with_context(|| format!("loading {}", path.display()))?;
            model.fold_batch_norm();
            let recipe: trainer::Recipe = serde_json::from_value(meta.recipe.clone()).context("the weights carry no training recipe")?;
            let dataset = recipe.dataset;
            catalog::check_suits(dataset, meta.config.variant(), &meta)?;
            let split = data::load(dataset, &data.unwrap_or_else(|| data::default_root(dataset)), &split, None)?;
            let started = Instant::now();
            let scores = evaluate::evaluate(&model, &split, &meta.normalization, recipe.height, recipe.width, at)?;
            eprintln!("{} images in {:.1} s", split.samples.len(), started.elapsed().as_secs_f64());
            let text = serde_json::to_string_pretty(&scores)?;
            println!("{text}");
            if let Some(out) = json {
                std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
            }
        }
        Command::Export { run, data, to } => export::export(&run, data.as_deref(), &to)?,
        Command::Publish { from, to, ids } => {
            let published = export::publish(&from, &to, &ids)?;
            eprintln!("published {} to {}", published.join(", "), to.display());
        }
        Command::Hash { dir } => {
            let changed = export::hash(&dir)?;
            eprintln!(
                "{}: {} entries updated{}",
                dir.join("manifest.json").display(),
                changed.len(),
                if changed.is_empty() { String::new() } else { format!(" ({})", changed.join(", ")) }
            );
        }
        Command::Compare { dataset, data, weights: files, images, out, scale } => {
            let all = data::load(dataset, &data.unwrap_or_else(|| data::default_root(dataset)), "test", None)?;
            let samples = images
                .iter()
                .map(|name| all.samples.iter().find(|s| &s.name == name).cloned().with_context(|| format!("no test image named {name}")))
                .collect::<Result<Vec<_>>>()?;
            let split = data::Split { samples, ..all };
            compare::compare(dataset, &files, &split, &out, scale)?;
            eprintln!("wrote {}", out.display());
        }
        Command::Bench { model, classes, height, width, repeats, forward_only, weights: file, infer_only, train_only, batch, threads } => {
            let start = Instant::now();
            let clock = move || start.elapsed().as_secs_f64() * 1e3;
            let model = match &file {
                Some(path) => {
                    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                    weights::load(&bytes).with_context(|| format!("loading {}", path.display()))?.0
                }
                None => skipscope_engine::Model::new(model.config(classes), 1)?,
            };
            if infer_only {
                let mut inference = bench::Inference::new(model, height, width)?;
                serve_timings("--infer-only", &mut || Ok(inference.time_ms(&clock)))?;
            } else if train_only {
                let mut step = TrainingStep::new(model, batch, height, width, threads)?;
                serve_timings("--train-only", &mut || step.time_ms(&clock))?;
            } else {
                let config = BenchConfig { model: model.config, height, width, repeats, backward: !forward_only };
                print!("{}", bench::run(&config, &clock).context("benchmark")?);
            }
        }
    }
    Ok(())
}

/// `bench --infer-only` and `--train-only`: for each stdin line `n`, the times of `n` runs
/// of `time_ms` on one stdout line.
fn serve_timings(flag: &str, time_ms: &mut dyn FnMut() -> Result<f64>) -> Result<()> {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let n: usize = line?.trim().parse().with_context(|| format!("bench {flag} reads a count per line"))?;
        let times = (0..n).map(|_| time_ms().map(|t| format!("{t:.4}"))).collect::<Result<Vec<_>>>()?;
        writeln!(out, "{}", times.join(" "))?;
        out.flush()?;
    }
    Ok(())
}

/// One training step as the trainer runs it, on a fixed batch: random normal images
/// `[batch, height, width, 3]` and random labels, class-weighted cross-entropy with uniform
/// weights, AdamW (learning rate 1e-3, weight decay 1e-4), `threads` shards.
struct TrainingStep {
    model: skipscope_engine::Model<f32>,
    optimizer: skipscope_engine::optim::Adam<f32>,
    loss: skipscope_engine::layers::loss::CrossEntropy,
    images: ndarray::Array4<f32>,
    labels: ndarray::Array3<u8>,
    threads: usize,
}

impl TrainingStep {
    fn new(model: skipscope_engine::Model<f32>, batch: usize, height: usize, width: usize, threads: usize) -> Result<Self> {
        model.config.check_input([batch, height, width, 3])?;
        let mut rng = skipscope_engine::rng::Rng::new(7);
        let classes = model.config.n_classes;
        let images = ndarray::Array4::from_shape_simple_fn((batch, height, width, 3), || rng.normal() as f32);
        let labels = ndarray::Array3::from_shape_simple_fn((batch, height, width), || rng.below(classes) as u8);
        let mut optimizer = skipscope_engine::optim::Adam::new(1e-3, 1e-4);
        optimizer.decoupled = true;
        Ok(Self { model, optimizer, loss: skipscope_engine::layers::loss::CrossEntropy::unweighted(classes), images, labels, threads })
    }

    fn time_ms(&mut self, clock: &dyn Fn() -> f64) -> Result<f64> {
        let t0 = clock();
        trainer::parallel_step(&mut self.model, &mut self.optimizer, &self.loss, &self.images, &self.labels, self.threads)?;
        Ok(clock() - t0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(args: &[&str]) -> Command {
        let argv = ["skipscope", "train", "--out", "runs/x"].iter().chain(args);
        Cli::try_parse_from(argv).unwrap().command
    }

    #[test]
    fn the_scripts_flags_parse_into_the_engines_types() {
        let Command::Train { dataset, model, class_weighting, .. } = train(&["--upsample", "unpool", "--skip", "concat", "--dataset", "ccp"]) else {
            panic!("train parses as train")
        };
        assert_eq!((dataset, model.upsample, model.skip), (Dataset::Ccp, Upsample::Unpool, Skip::Concat));
        assert_eq!(class_weighting, trainer::ClassWeighting::MedianFrequency);
        let Command::Train { dataset, model, class_weighting, .. } = train(&["--class-weighting", "uniform"]) else { panic!("train parses as train") };
        assert_eq!((dataset, model.upsample, model.skip, model.depth, model.channels), (Dataset::Camvid, Upsample::Transposed, Skip::Add, 4, 8), "defaults");
        assert_eq!(class_weighting, trainer::ClassWeighting::Uniform);
        let err = Cli::try_parse_from(["skipscope", "train", "--out", "x", "--skip", "sum"]).err().unwrap().to_string();
        assert!(err.contains("none, add, concat"), "{err}");
    }

    /// The index names the purge delay: mimalloc reports its default, 1000 ms, there (the
    /// tests' `main` does not set it).
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reading an option is thread safe.
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        }
    }
}

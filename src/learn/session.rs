//! One model of the "train it yourself" view, trained by the engine's own code: the seeded
//! task ([`skipscope_engine::synthetic::task`]), [`loss_and_gradients`] and [`Adam`]. What a
//! learn worker runs; no web dependency, so it is tested natively and in wasm alike.

use super::settings::{Settings, BATCH, DEPTH, WIDTH};
use ndarray::{Array3, Array4, ArrayD, Axis};
use skipscope_engine::layers::loss::{argmax, CrossEntropy};
use skipscope_engine::model::Workspace;
use skipscope_engine::optim::Adam;
use skipscope_engine::param::{Module, TensorMut};
use skipscope_engine::rng::Rng;
use skipscope_engine::synthetic::{task, BLOB, CLASSES, THIN};
use skipscope_engine::training::loss_and_gradients;
use skipscope_engine::{Model, ModelConfig, Result, Skip};
use std::collections::HashMap;

/// Held-out images the scores are computed on; the first is the one shown.
pub const HELD_OUT: usize = 4;
/// Mixed into the seed for the training batches' stream.
const DATA_SALT: u64 = 0x5EED_DA7A;
/// Mixed into the seed for the held-out images (never drawn for training).
const HELD_OUT_SALT: u64 = 0x0004_E1D0;

/// The model of `settings` with `skip`.
pub fn config(settings: &Settings, skip: Skip) -> ModelConfig {
    ModelConfig { in_channels: 3, n_classes: CLASSES, depth: DEPTH, width: WIDTH, upsample: settings.upsample, skip }
}

/// Copies every tensor of `from` into the tensor of `to` with the same name and shape
/// (parameters and batch-norm buffers); returns how many parameter values were copied.
pub fn share_weights(from: &mut Model<f32>, to: &mut Model<f32>) -> usize {
    let mut source: HashMap<String, ArrayD<f32>> = HashMap::new();
    from.visit("", &mut |name, t| {
        let value = match t {
            TensorMut::Param(p) => p.value.clone(),
            TensorMut::Buffer(b) => b.clone(),
        };
        source.insert(name.to_string(), value);
    });
    let mut copied = 0;
    to.visit("", &mut |name, t| {
        let (target, trainable) = match t {
            TensorMut::Param(p) => (&mut p.value, true),
            TensorMut::Buffer(b) => (b, false),
        };
        if let Some(v) = source.get(name).filter(|v| v.shape() == target.shape()) {
            target.assign(v);
            copied += if trainable { v.len() } else { 0 };
        }
    });
    copied
}

/// How a model does on the held-out images.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// The training step it was taken after (0: before any).
    pub step: u64,
    /// The first held-out image's predicted classes, `size * size`, row-major.
    pub mask: Vec<u8>,
    /// Intersection over union of the thin structures (lines and dots) over all held-out
    /// images; `None` where neither the label nor the prediction has any.
    pub thin_iou: Option<f64>,
    /// The same for the blobs.
    pub blob_iou: Option<f64>,
}

fn iou(predicted: &Array3<u8>, labels: &Array3<u8>, class: u8) -> Option<f64> {
    let (mut inter, mut union) = (0usize, 0usize);
    for (&p, &l) in predicted.iter().zip(labels.iter()) {
        inter += (p == class && l == class) as usize;
        union += (p == class || l == class) as usize;
    }
    (union > 0).then(|| inter as f64 / union as f64)
}

/// The training run of one model.
pub struct Session {
    pub settings: Settings,
    pub skip: Skip,
    model: Model<f32>,
    optimizer: Adam<f32>,
    loss: CrossEntropy,
    data: Rng,
    steps: u64,
    held_out: (Array4<f32>, Array3<u8>),
    workspace: Workspace<f32>,
    /// Parameter values of the initial weights equal to the skip-less model's (all of them
    /// for it).
    pub shared_values: usize,
    pub parameter_count: usize,
}

impl Session {
    /// A fresh model of `settings` and `skip`, its initial weights drawn from the seed and,
    /// wherever a tensor has the same name and shape as the skip-less model's, equal to
    /// that model's: the encoder, the bottleneck and the head in every variant; the decoder
    /// too with `add` (its projections are its own).
    pub fn new(settings: Settings, skip: Skip) -> Result<Self> {
        let mut model = Model::new(config(&settings, skip), settings.seed)?;
        let shared_values = if skip == Skip::None {
            let mut all = 0;
            model.visit("", &mut |_, t| all += if let TensorMut::Param(p) = t { p.value.len() } else { 0 });
            all
        } else {
            let mut none = Model::new(config(&settings, Skip::None), settings.seed)?;
            share_weights(&mut none, &mut model)
        };
        let parameter_count = model.parameter_count();
        let held_out = task(settings.task, HELD_OUT, settings.size, &mut Rng::new(settings.seed ^ HELD_OUT_SALT));
        Ok(Self {
            settings,
            skip,
            model,
            optimizer: Adam::new(settings.lr, 0.0),
            loss: CrossEntropy::unweighted(CLASSES),
            data: Rng::new(settings.seed ^ DATA_SALT),
            steps: 0,
            held_out,
            workspace: Workspace::new(),
            shared_values,
            parameter_count,
        })
    }

    /// Training steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One Adam step on a fresh batch of `BATCH` images; returns the batch's loss (before
    /// the step). Every session of the same settings draws the same batches.
    pub fn step(&mut self) -> Result<f32> {
        let (images, labels) = task(self.settings.task, BATCH, self.settings.size, &mut self.data);
        let loss = loss_and_gradients(&mut self.model, &self.loss, &images, &labels)?;
        self.optimizer.step(&mut self.model);
        self.steps += 1;
        Ok(loss)
    }

    /// The model's masks of the held-out images (batch norm from its running statistics)
    /// and their scores.
    pub fn evaluate(&mut self) -> Result<Evaluation> {
        let predicted = argmax(self.model.infer(self.held_out.0.view(), &mut self.workspace)?);
        let labels = &self.held_out.1;
        Ok(Evaluation {
            step: self.steps,
            mask: predicted.index_axis(Axis(0), 0).iter().copied().collect(),
            thin_iou: iou(&predicted, labels, THIN),
            blob_iou: iou(&predicted, labels, BLOB),
        })
    }

    /// The shown held-out image as RGB bytes (`size * size * 3`) and its label (`size * size`).
    pub fn example(&self) -> (Vec<u8>, Vec<u8>) {
        let image = self.held_out.0.index_axis(Axis(0), 0);
        let rgb = image.iter().map(|&v| ((v + 1.0) * 127.5).clamp(0.0, 255.0) as u8).collect();
        (rgb, self.held_out.1.index_axis(Axis(0), 0).iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::settings::SKIPS;
    use skipscope_engine::Upsample;

    fn tensors(model: &mut Model<f32>) -> HashMap<String, ArrayD<f32>> {
        let mut out = HashMap::new();
        model.visit_params("", &mut |name, p| {
            out.insert(name.to_string(), p.value.clone());
        });
        out
    }

    #[test]
    fn the_three_models_start_from_the_same_weights_where_their_shapes_agree() {
        for upsample in Upsample::ALL {
            let settings = Settings { upsample, ..Settings::default() };
            let mut none = Model::new(config(&settings, Skip::None), settings.seed).unwrap();
            let reference = tensors(&mut none);
            for skip in [Skip::Add, Skip::Concat] {
                let mut session = Session::new(settings, skip).unwrap();
                assert!(session.shared_values > 0 && session.shared_values < session.parameter_count);
                if skip == Skip::Add {
                    assert_eq!(session.shared_values, none.parameter_count(), "add starts with every weight of none");
                }
                let mine = tensors(&mut session.model);
                let (mut same, mut other) = (0, 0);
                for (name, value) in &mine {
                    match reference.get(name).filter(|r| r.shape() == value.shape()) {
                        Some(r) => {
                            assert_eq!(r, value, "{upsample}-{skip}: {name} differs from none's");
                            same += 1;
                        }
                        None => other += 1,
                    }
                }
                assert!(mine.contains_key("enc.0.conv1.weight") && reference["head.weight"] == mine["head.weight"]);
                assert!(same > 0 && other > 0, "{upsample}-{skip}: {same} shared, {other} own");
            }
        }
    }

    #[test]
    fn a_session_learns_and_is_reproducible() {
        let settings = Settings { size: 32, ..Settings::default() };
        let run = || {
            let mut s = Session::new(settings, Skip::Add).unwrap();
            let losses: Vec<f32> = (0..30).map(|_| s.step().unwrap()).collect();
            (losses, s.evaluate().unwrap())
        };
        let (losses, eval) = run();
        assert_eq!(run().0, losses, "same seed, same losses");
        let (first, last) = (losses[..5].iter().sum::<f32>(), losses[25..].iter().sum::<f32>());
        assert!(last < first * 0.8, "the loss falls: {first} -> {last}");
        assert_eq!(eval.step, 30);
        assert_eq!(eval.mask.len(), 32 * 32);
        assert!(eval.blob_iou.is_some());
        let s = Session::new(settings, Skip::None).unwrap();
        let (rgb, label) = s.example();
        assert_eq!((rgb.len(), label.len()), (32 * 32 * 3, 32 * 32));
        assert_eq!(s.shared_values, s.parameter_count, "none shares all of its own weights");
        let _ = SKIPS;
    }
}

/// The first losses of the default settings' three models, as the fixture
/// `tests/fixtures/learn_losses.json` holds them: the native run writes it
/// (`LEARN_WRITE_FIXTURE=1 cargo test --release -p skipscope --lib learn::session`), the
/// native and wasm tests and the browser test compare their runs with it.
pub fn fixture_losses(settings: Settings, steps: usize) -> Result<Vec<(Skip, Vec<f32>)>> {
    super::settings::SKIPS
        .iter()
        .map(|&skip| {
            let mut s = Session::new(settings, skip)?;
            let losses = (0..steps).map(|_| s.step()).collect::<Result<Vec<f32>>>()?;
            Ok((skip, losses))
        })
        .collect()
}

/// The fixture file's content.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Fixture {
    pub settings: Settings,
    /// `(skip name, losses)` per model.
    pub losses: Vec<(String, Vec<f32>)>,
}

/// Losses that agree within [`EXACT_TOLERANCE`] relative between wasm and native: the
/// first (the initial weights' forward pass) and the second (after one backward pass and
/// Adam step). Later ones only within [`LATER_TOLERANCE`]: Adam's first steps move every
/// weight by about the learning rate in the direction of its gradient's sign, so a gradient
/// near zero whose sign differs by a rounding (wasm's kernels are not the native AVX2 or
/// AVX-512 ones) moves that weight the other way; a weight perturbation of 1e-7 relative already
/// changes the third loss by about 4e-3 natively (`a_rounding_sized_perturbation_...`).
pub const EXACT_STEPS: usize = 2;
pub const EXACT_TOLERANCE: f64 = 1e-5;
/// The bound on the relative difference of the later fixture losses.
pub const LATER_TOLERANCE: f64 = 0.1;

/// Checks a run's losses against the fixture's: the first [`EXACT_STEPS`] within
/// [`EXACT_TOLERANCE`], the rest within [`LATER_TOLERANCE`] relative. Returns the largest
/// relative differences of both parts, or what differs.
pub fn check_against_fixture(got: &[f32], want: &[f32]) -> std::result::Result<(f64, f64), String> {
    if got.len() != want.len() || want.len() < EXACT_STEPS {
        return Err(format!("{} losses, the fixture has {}", got.len(), want.len()));
    }
    let exact = largest_relative_difference(&got[..EXACT_STEPS], &want[..EXACT_STEPS]);
    let later = largest_relative_difference(&got[EXACT_STEPS..], &want[EXACT_STEPS..]);
    if exact > EXACT_TOLERANCE || later > LATER_TOLERANCE {
        return Err(format!(
            "relative differences {exact:e} (first {EXACT_STEPS}) and {later:e} (later)
 got {got:?}
want {want:?}"
        ));
    }
    Ok((exact, later))
}

/// The largest relative difference between two runs' losses (`f64::INFINITY` when their
/// lengths differ).
pub fn largest_relative_difference(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).abs() / (y as f64).abs().max(1e-12)).fold(0.0, f64::max)
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// Steps per model in the fixture.
    const STEPS: usize = 20;
    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/learn_losses.json");

    #[test]
    fn native_losses_match_the_fixture() {
        let settings = Settings::default();
        let run = fixture_losses(settings, STEPS).unwrap();
        let mine = Fixture { settings, losses: run.into_iter().map(|(s, l)| (s.name().to_string(), l)).collect() };
        if std::env::var_os("LEARN_WRITE_FIXTURE").is_some() {
            std::fs::write(PATH, serde_json::to_string_pretty(&mine).unwrap()).unwrap();
        }
        let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
        assert_eq!(fixture.settings, settings);
        for ((name, want), (mine_name, got)) in fixture.losses.iter().zip(&mine.losses) {
            assert_eq!(name, mine_name);
            if let Err(e) = check_against_fixture(got, want) {
                panic!("{name}: {e}");
            }
        }
        assert!(mine.losses.iter().all(|(_, l)| l[STEPS - 1] < l[0]), "every model's loss falls: {:?}", mine.losses);
    }

    /// Why only the first two fixture losses are held to 1e-5: a perturbation of every
    /// weight by 1e-7 relative, the size of a rounding, leaves the first loss within 1e-6
    /// and moves the third by far more than 1e-5.
    #[test]
    fn a_rounding_sized_perturbation_moves_the_losses_after_one_adam_step() {
        let settings = Settings::default();
        let mut a = Session::new(settings, Skip::None).unwrap();
        let mut b = Session::new(settings, Skip::None).unwrap();
        b.model.visit_params("", &mut |name, p| {
            if name.ends_with("weight") {
                p.value.mapv_inplace(|v| v * (1.0 + 1e-7));
            }
        });
        let (la, lb): (Vec<f32>, Vec<f32>) = (0..3).map(|_| (a.step().unwrap(), b.step().unwrap())).unzip();
        let relative: Vec<f64> = la.iter().zip(&lb).map(|(x, y)| ((x - y) / x).abs() as f64).collect();
        eprintln!("relative loss differences after a 1e-7 weight perturbation: {relative:?}");
        assert!(relative[0] < 1e-6, "{relative:?}");
        assert!(relative[2] > 1e-5, "{relative:?}");
    }

    /// The native cost of a step at the default settings, for comparison with the page's
    /// steps/s: `cargo test --release -p skipscope --lib learn::session -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn native_step_time() {
        let settings = Settings::default();
        for skip in super::super::settings::SKIPS {
            let mut s = Session::new(settings, skip).unwrap();
            s.step().unwrap();
            let start = std::time::Instant::now();
            for _ in 0..20 {
                s.step().unwrap();
            }
            let ms = start.elapsed().as_secs_f64() * 1000.0 / 20.0;
            let gflop = s.model.forward_flops(settings.size, settings.size) * BATCH as f64 * 3.0 / 1e9;
            eprintln!("{skip}: {ms:.1} ms a step natively ({:.1} steps/s), about {gflop:.2} GFLOP a step (forward x 3)", 1000.0 / ms);
        }
    }
}

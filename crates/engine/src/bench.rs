//! Speed measurement shared by the native command (`skipscope bench`) and the wasm
//! benchmark in headless Chromium. The caller supplies the clock, so the engine stays
//! free of platform APIs. Figures are the minimum over `repeats` runs, batch 1.

use crate::layers::conv2d::Conv2d;
use crate::layers::{max_pool, max_unpool, upsample_bilinear};
use crate::model::{Fusion, Upsampler, Workspace};
use crate::rng::Rng;
use crate::{Model, ModelConfig, Result};
use ndarray::Array4;
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
    /// Input shape `H x W x C`.
    pub shape: String,
    /// Forward GFLOP (backward counts twice this); zero for layers without arithmetic.
    pub gflop: f64,
    pub forward_ms: f64,
    pub backward_ms: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct BenchReport {
    pub config: BenchConfig,
    pub layers: Vec<LayerTiming>,
    /// The whole model: `forward_ms` is inference (folded batch norm, warm buffers),
    /// `backward_ms` the backward pass of training.
    pub model: LayerTiming,
    /// The training forward pass (batch statistics, caches), when `backward`.
    pub train_forward_ms: Option<f64>,
}

/// A folded model, a warm [`Workspace`] and a fixed input: times [`Model::infer`] one
/// call at a time, for benchmarks that interleave the engine with another runtime.
pub struct Inference {
    model: Model<f32>,
    ws: Workspace<f32>,
    x: Array4<f32>,
}

impl Inference {
    /// Folds `model`'s batch norms, draws a `height x width` input (normal, seed 2) and
    /// runs once to warm the workspace.
    pub fn new(mut model: Model<f32>, height: usize, width: usize) -> Result<Self> {
        model.fold_batch_norm();
        let x = random_input([1, height, width, model.config.in_channels], &mut Rng::new(2));
        let mut ws = Workspace::new();
        model.infer(x.view(), &mut ws)?;
        Ok(Self { model, ws, x })
    }

    /// One `Model::infer`.
    pub fn infer(&mut self) {
        self.model.infer(self.x.view(), &mut self.ws).expect("the input's shape was checked by new");
    }

    /// One timed `Model::infer`, in ms of `now_ms`.
    pub fn time_ms(&mut self, now_ms: &dyn Fn() -> f64) -> f64 {
        let t0 = now_ms();
        self.infer();
        now_ms() - t0
    }
}

fn time_min(repeats: usize, now_ms: &dyn Fn() -> f64, mut f: impl FnMut()) -> f64 {
    f();
    (0..repeats.max(1))
        .map(|_| {
            let t0 = now_ms();
            f();
            now_ms() - t0
        })
        .fold(f64::INFINITY, f64::min)
}

fn random_input(shape: [usize; 4], rng: &mut Rng) -> Array4<f32> {
    Array4::from_shape_simple_fn(shape, || rng.normal() as f32)
}

fn shape_name(s: [usize; 4]) -> String {
    format!("{}x{}x{}", s[1], s[2], s[3])
}

/// Times every distinct convolution of the model, the parameter-free up/down samplers at
/// full resolution, and the whole model (inference, and training step without the
/// optimiser when `backward`). `now_ms` is a monotonic clock in milliseconds.
pub fn run(config: &BenchConfig, now_ms: &dyn Fn() -> f64) -> Result<BenchReport> {
    let (h, w, r) = (config.height, config.width, config.repeats);
    let mc = config.model;
    mc.check_input([1, h, w, mc.in_channels])?;
    let mut model = Model::<f32>::new(mc, 1)?;
    let mut rng = Rng::new(2);
    let mut layers = Vec::new();
    let mut scratch = Vec::new();

    let mut convs: Vec<(String, usize, Conv2d<f32>)> = Vec::new();
    for (k, b) in model.encoder.iter().enumerate() {
        convs.push((format!("enc.{k}.conv1"), k, b.first.conv.clone()));
        convs.push((format!("enc.{k}.conv2"), k, b.second.conv.clone()));
    }
    convs.push(("bottleneck.conv1".into(), mc.depth, model.bottleneck.first.conv.clone()));
    convs.push(("bottleneck.conv2".into(), mc.depth, model.bottleneck.second.conv.clone()));
    for (k, s) in model.decoder.iter().enumerate().rev() {
        if let Fusion::Add(p) = &s.fusion {
            convs.push((format!("dec.{k}.proj"), k, p.clone()));
        }
        convs.push((format!("dec.{k}.conv1"), k, s.block.first.conv.clone()));
        convs.push((format!("dec.{k}.conv2"), k, s.block.second.conv.clone()));
    }
    convs.push(("head".into(), 0, model.head.clone()));

    for (name, level, mut conv) in convs {
        let shape = [1, h >> level, w >> level, conv.config.in_channels];
        let x = random_input(shape, &mut rng);
        let mut y = Array4::zeros(conv.output_shape(shape)?);
        let forward_ms = time_min(r, now_ms, || conv.forward_into(x.view(), y.view_mut(), &mut scratch));
        let backward_ms = config.backward.then(|| {
            let (_, cache) = conv.forward(&x).expect("shape checked");
            time_min(r, now_ms, || {
                conv.backward(&cache, y.view());
            })
        });
        let gflop = conv.flops_per_pixel() * ((h >> level) * (w >> level)) as f64 / 1e9;
        layers.push(LayerTiming { name, shape: shape_name(shape), gflop, forward_ms, backward_ms });
    }

    for (k, s) in model.decoder.iter_mut().enumerate().rev() {
        let Upsampler::Transposed(up) = &mut s.up else { continue };
        let shape = [1, h >> (k + 1), w >> (k + 1), up.config.in_channels];
        let x = random_input(shape, &mut rng);
        let mut y = Array4::zeros(up.output_shape(shape)?);
        let forward_ms = time_min(r, now_ms, || up.forward_into(x.view(), y.view_mut(), &mut scratch));
        let backward_ms = config.backward.then(|| {
            let (_, cache) = up.forward(&x).expect("shape checked");
            time_min(r, now_ms, || {
                up.backward(&cache, y.view());
            })
        });
        let gflop = up.flops_per_input_pixel() * (shape[1] * shape[2]) as f64 / 1e9;
        layers.push(LayerTiming { name: format!("dec.{k}.up"), shape: shape_name(shape), gflop, forward_ms, backward_ms });
    }

    let c0 = mc.channels(0);
    let full = [1, h, w, c0];
    let half = [1, h / 2, w / 2, c0];
    let x = random_input(full, &mut rng);
    let mut pooled = Array4::zeros(half);
    let mut indices = Array4::zeros(half);
    let pool_ms = time_min(r, now_ms, || max_pool::forward_into(x.view(), pooled.view_mut(), indices.view_mut()));
    layers.push(LayerTiming { name: "max_pool (level 0)".into(), shape: shape_name(full), gflop: 0.0, forward_ms: pool_ms, backward_ms: None });
    let mut up = Array4::zeros(full);
    let unpool_ms = time_min(r, now_ms, || max_unpool::forward_into(pooled.view(), indices.view(), up.view_mut()));
    layers.push(LayerTiming { name: "max_unpool (to level 0)".into(), shape: shape_name(half), gflop: 0.0, forward_ms: unpool_ms, backward_ms: None });
    let bilinear_ms = time_min(r, now_ms, || upsample_bilinear::forward_into(pooled.view(), up.view_mut()));
    layers.push(LayerTiming { name: "bilinear x2 (to level 0)".into(), shape: shape_name(half), gflop: 0.0, forward_ms: bilinear_ms, backward_ms: None });

    let input_shape = [1, h, w, mc.in_channels];
    let x = random_input(input_shape, &mut rng);
    let mut ws = Workspace::new();
    let mut folded = model.clone();
    folded.fold_batch_norm();
    let forward_ms = time_min(r, now_ms, || {
        folded.infer(x.view(), &mut ws).expect("shape checked");
    });
    let backward_ms = config.backward.then(|| {
        let (scores, cache) = model.forward_train(&x).expect("shape checked");
        time_min(r, now_ms, || {
            model.backward(&cache, scores.view());
        })
    });
    let train_forward_ms = config.backward.then(|| {
        time_min(r, now_ms, || {
            model.forward_train(&x).expect("shape checked");
        })
    });
    let model_timing = LayerTiming {
        name: format!("whole model ({})", mc.variant()),
        shape: shape_name(input_shape),
        gflop: model.forward_flops(h, w) / 1e9,
        forward_ms,
        backward_ms,
    };
    Ok(BenchReport { config: config.clone(), layers, model: model_timing, train_forward_ms })
}

impl BenchReport {
    /// Forward plus backward time of every convolution and transposed convolution of the
    /// model (each appears once in `layers`), in ms: their share of a training step.
    pub fn convolution_ms(&self) -> Option<f64> {
        self.layers.iter().filter(|t| t.gflop > 0.0).map(|t| t.backward_ms.map(|b| t.forward_ms + b)).sum()
    }
}

impl LayerTiming {
    pub fn forward_gflops(&self) -> f64 {
        self.gflop / (self.forward_ms / 1e3)
    }

    pub fn backward_gflops(&self) -> Option<f64> {
        self.backward_ms.map(|ms| 2.0 * self.gflop / (ms / 1e3))
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "model {} depth {} width {}, input {}x{}, batch 1, min of {} runs",
            c.model.variant(),
            c.model.depth,
            c.model.width,
            c.height,
            c.width,
            c.repeats
        )?;
        writeln!(f, "{:<26} {:>14} {:>8} {:>10} {:>9} {:>10} {:>9}", "layer", "input HxWxC", "GFLOP", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s")?;
        for t in self.layers.iter().chain(std::iter::once(&self.model)) {
            let gf = |v: f64| if t.gflop > 0.0 { format!("{v:.1}") } else { "-".into() };
            let (bms, bgf) = match (t.backward_ms, t.backward_gflops()) {
                (Some(ms), Some(g)) => (format!("{ms:.2}"), gf(g)),
                _ => ("-".into(), "-".into()),
            };
            writeln!(f, "{:<26} {:>14} {:>8.3} {:>10.2} {:>9} {:>10} {:>9}", t.name, t.shape, t.gflop, t.forward_ms, gf(t.forward_gflops()), bms, bgf)?;
        }
        if let (Some(fwd), Some(bwd)) = (self.train_forward_ms, self.model.backward_ms) {
            let step = fwd + bwd;
            writeln!(
                f,
                "training step (forward {fwd:.2} ms + backward {bwd:.2} ms): {step:.2} ms, {:.1} GFLOP/s, {:.1} images/s on one core",
                3.0 * self.model.gflop / (step / 1e3),
                1e3 / step
            )?;
            if let Some(conv) = self.convolution_ms() {
                writeln!(f, "convolutions (forward + backward): {conv:.2} ms, {:.0}% of the training step", 100.0 * conv / step)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Skip, Upsample};

    #[test]
    fn a_report_times_every_convolution_and_the_training_step() {
        let model = ModelConfig { in_channels: 3, n_classes: 3, depth: 2, width: 4, upsample: Upsample::Transposed, skip: Skip::Add };
        let config = BenchConfig { model, height: 16, width: 16, repeats: 1, backward: true };
        let start = std::time::Instant::now();
        let report = run(&config, &|| start.elapsed().as_secs_f64() * 1e3).unwrap();
        // 2 x 2 encoder, 2 bottleneck, 2 x (proj + 2) decoder, head, and 2 transposed convs.
        assert_eq!(report.layers.iter().filter(|t| t.gflop > 0.0).count(), 4 + 2 + 6 + 1 + 2);
        assert!(report.convolution_ms().is_some_and(|ms| ms > 0.0));
        assert!(report.to_string().contains("of the training step"));
        let forward_only = run(&BenchConfig { backward: false, ..config }, &|| start.elapsed().as_secs_f64() * 1e3).unwrap();
        assert_eq!(forward_only.convolution_ms(), None);
    }
}

/// One convolution's backward timed both ways, in ms (minimum over the rounds).
#[derive(Clone, Debug)]
pub struct BackwardTiming {
    /// `C_in -> C_out` and the input `NxHxW`.
    pub layer: String,
    /// [`Conv2d::backward`]: the direct kernels where they run.
    pub direct_ms: f64,
    /// [`Conv2d::backward_im2col`]: the plain path.
    pub im2col_ms: f64,
}

/// The 3x3 convolutions of the learn view's models (64x64, batch 4, depth 3, width 8, the
/// encoder and the concat decoder's), timed backward by the direct kernels and by the plain
/// im2col path, interleaved round by round (`rounds` rounds, each layer once per round and
/// path). `now_ms` is a monotonic clock in milliseconds.
pub fn backward_kernels(rounds: usize, now_ms: &dyn Fn() -> f64) -> Vec<BackwardTiming> {
    const LAYERS: [(usize, usize, usize); 10] =
        [(3, 8, 64), (8, 8, 64), (8, 16, 32), (16, 16, 32), (16, 32, 16), (32, 32, 16), (32, 64, 8), (64, 64, 8), (16, 8, 64), (32, 16, 32)];
    let mut rng = Rng::new(5);
    let mut layers: Vec<_> = LAYERS
        .iter()
        .map(|&(cin, cout, side)| {
            let conv = Conv2d::<f32>::new(crate::layers::conv2d::Conv2dConfig::same(cin, cout, 3), &mut rng);
            let x = random_input([4, side, side, cin], &mut rng);
            let (_, cache) = conv.forward(&x).expect("shapes agree");
            let dy = random_input([4, side, side, cout], &mut rng);
            (format!("{cin} -> {cout} at 4x{side}x{side}"), conv, cache, dy, [f64::INFINITY; 2])
        })
        .collect();
    for _ in 0..rounds.max(1) + 1 {
        for (_, conv, cache, dy, best) in layers.iter_mut() {
            let t0 = now_ms();
            std::hint::black_box(conv.backward(cache, dy.view()));
            let t1 = now_ms();
            std::hint::black_box(conv.backward_im2col(cache, dy.view()));
            let t2 = now_ms();
            best[0] = best[0].min(t1 - t0);
            best[1] = best[1].min(t2 - t1);
        }
    }
    layers.into_iter().map(|(layer, _, _, _, [direct_ms, im2col_ms])| BackwardTiming { layer, direct_ms, im2col_ms }).collect()
}

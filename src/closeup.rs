//! Close-ups with the real numbers, pure: at one position of the photo, for one stage and
//! channel, how the value was computed, from the trace's maps and the decoder weights the
//! worker ran (batch norm is folded into the 3x3 convolutions and never touches the upsampler
//! or the 1x1 projection, so these are the weights as run).
//!
//! - [`pool`]: `pool.k`'s 2x2 window of `enc.k`, which was the maximum, the output.
//! - [`upsample`]: for `dec.k`, max unpooling (where the deep value goes back, by the recorded
//!   index, and the three zeros), the transposed convolution (4x4, stride 2, padding 1: the
//!   deep values and kernel taps that make the output, and their sum + bias), or bilinear
//!   interpolation (`align_corners=False`: the four neighbours and their weights).
//! - [`skip`]: upsampled + skip term = fused (add: the 1x1 convolution's contributions of
//!   `enc.k`'s channels; concat: which channels of the stack come from where).
//!
//! The maps are cropped to the picture, so near its bottom and right edges an input of a
//! window can lie in the padding, which the page does not hold: it is `None`, and the sums
//! that need it are `None` too.

use crate::position::Position;
use crate::protocol::{Planes, StageData};
use crate::Shared;
use skipscope_engine::model::StageKind;
use skipscope_engine::{Skip, Upsample, Variant};

/// Value `c, y, x` of `p`, if the page holds it.
pub fn value(p: &Planes, c: usize, y: usize, x: usize) -> Option<f32> {
    let s = p.shape;
    (c < s.channels && y < s.height && x < s.width).then(|| p.values[(c * s.height + y) * s.width + x])
}

/// What the close-ups read: the trace so far, and the padded input's size.
pub struct Ctx<'a> {
    pub stages: &'a [Shared<StageData>],
    pub variant: Variant,
    pub depth: usize,
    /// The network input's `(height, width)`, padding included.
    pub full: (usize, usize),
}

impl Ctx<'_> {
    fn stage(&self, name: &str) -> Option<&StageData> {
        self.stages.iter().find(|s| s.name == name).map(|s| &*s.0)
    }

    /// The map `dec.k` upsamples: `bottleneck` below the deepest level, else `dec.{k+1}`.
    pub fn deep_name(&self, k: usize) -> String {
        if k + 1 >= self.depth {
            "bottleneck".into()
        } else {
            format!("dec.{}", k + 1)
        }
    }
}

/// `pool.k` at one position.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolCloseup {
    pub k: usize,
    pub channel: usize,
    /// The pooled value's row and column.
    pub at: (usize, usize),
    /// The window's top-left in `enc.k`: `2 * at`.
    pub window_at: (usize, usize),
    /// `enc.k` in the window, `2 * dy + dx`.
    pub window: [Option<f32>; 4],
    /// Where the maximum was, `2 * dy + dx` (the recorded index).
    pub argmax: u8,
    pub output: f32,
}

/// Max unpooling at one position of `dec.k`'s upsampled map.
#[derive(Clone, Debug, PartialEq)]
pub struct UnpoolCloseup {
    pub k: usize,
    pub channel: usize,
    pub at: (usize, usize),
    pub deep_name: String,
    /// The deep value that owns this position's 2x2 window: `at / 2`.
    pub deep_at: (usize, usize),
    pub deep_value: f32,
    /// Where `pool.k` found that window's maximum, `2 * dy + dx`: the value goes back there.
    pub argmax: u8,
    /// Where `at` is in its window, `2 * dy + dx`.
    pub cell: u8,
    /// The upsampled map in the window (the deep value at `argmax`, zeros elsewhere).
    pub window: [Option<f32>; 4],
    pub value: f32,
}

/// One input position of a transposed convolution's output.
#[derive(Clone, Debug, PartialEq)]
pub struct Tap {
    /// The deep map's row and column.
    pub at: (usize, usize),
    /// The kernel tap `(ky, kx)`: output `y = 2 iy - 1 + ky`.
    pub kernel: (usize, usize),
    /// `sum over ci of deep[ci] * w[ci, ky, kx, c]`, if the page holds the deep values.
    pub contribution: Option<f32>,
    /// The same channel's term: `deep[c]` and `w[c, ky, kx, c]`.
    pub own: Option<(f32, f32)>,
}

/// The transposed convolution at one position of `dec.k`'s upsampled map.
#[derive(Clone, Debug, PartialEq)]
pub struct TransposedCloseup {
    pub k: usize,
    pub channel: usize,
    pub at: (usize, usize),
    pub deep_name: String,
    /// Input channels summed in each tap.
    pub channels: usize,
    pub taps: Vec<Tap>,
    pub bias: f32,
    /// `bias + sum of the taps' contributions`.
    pub sum: Option<f32>,
    /// The upsampled value the worker computed.
    pub value: f32,
}

/// One neighbour of a bilinear sample.
#[derive(Clone, Debug, PartialEq)]
pub struct BilinearTap {
    pub at: (usize, usize),
    pub weight: f32,
    pub value: Option<f32>,
}

/// Bilinear x2 at one position of `dec.k`'s upsampled map.
#[derive(Clone, Debug, PartialEq)]
pub struct BilinearCloseup {
    pub k: usize,
    pub channel: usize,
    pub at: (usize, usize),
    pub deep_name: String,
    /// Where the output samples the deep map: `max((o + 0.5) / 2 - 0.5, 0)` per axis.
    pub source: (f64, f64),
    /// `(lo, lo)`, `(lo, hi)`, `(hi, lo)`, `(hi, hi)`.
    pub taps: [BilinearTap; 4],
    pub sum: Option<f32>,
    pub value: f32,
}

/// How `dec.k` doubled the resolution at the position.
#[derive(Clone, Debug, PartialEq)]
pub enum UpCloseup {
    Unpool(UnpoolCloseup),
    Transposed(TransposedCloseup),
    Bilinear(BilinearCloseup),
}

/// One encoder channel's term in the 1x1 projection.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    pub channel: usize,
    pub input: f32,
    pub weight: f32,
}

impl Contribution {
    pub fn product(&self) -> f32 {
        self.input * self.weight
    }
}

/// The skip at the position of `dec.k`, channel `c` of the upsampled map.
#[derive(Clone, Debug, PartialEq)]
pub enum SkipCloseup {
    Add {
        k: usize,
        channel: usize,
        at: (usize, usize),
        upsampled: f32,
        /// The projected encoder map: `bias + sum of contributions`.
        skip: f32,
        fused: f32,
        bias: f32,
        /// Every encoder channel's term, largest magnitude first.
        contributions: Vec<Contribution>,
        /// `bias + sum of the contributions`, recomputed here.
        sum: f32,
    },
    Concat {
        k: usize,
        channel: usize,
        at: (usize, usize),
        /// Channels of each half; the stack has twice as many.
        channels: usize,
        upsampled: f32,
        encoder: f32,
        /// The stack's channel `c` (from the upsampled map) and `C + c` (from `enc.k`).
        stacked_up: f32,
        stacked_skip: f32,
    },
}

/// The channel of a decoder level's upsampled map the stage's `channel` shows (the page's
/// parts view uses the same: the selected channel, at most the last one).
pub fn parts_channel(stage: &StageData, channel: usize) -> usize {
    stage.parts.as_ref().map_or(0, |p| channel.min(p.upsampled.shape.channels.saturating_sub(1)))
}

/// `pool.k`'s window at `pos`, for channel `channel`.
pub fn pool(ctx: &Ctx, name: &str, channel: usize, pos: Position) -> Option<PoolCloseup> {
    let stage = ctx.stage(name).filter(|s| s.kind == StageKind::Pool)?;
    let k = stage.level.checked_sub(1)?;
    let enc = ctx.stage(&format!("enc.{k}"))?;
    let s = stage.planes.shape;
    let c = channel.min(s.channels - 1);
    let at = pos.at_level(stage.level);
    let output = value(&stage.planes, c, at.0, at.1)?;
    let argmax = stage.argmax.as_ref()?[(c * s.height + at.0) * s.width + at.1];
    let window_at = (2 * at.0, 2 * at.1);
    let window = [0, 1, 2, 3].map(|i| value(&enc.planes, c, window_at.0 + i / 2, window_at.1 + i % 2));
    Some(PoolCloseup { k, channel: c, at, window_at, window, argmax, output })
}

/// The inputs of output `o` of a kernel-4, stride-2, padding-1 transposed convolution from
/// `m` inputs, with their kernel taps: `o = 2 i - 1 + t`.
fn transposed_taps(o: usize, m: usize) -> Vec<(usize, usize)> {
    (0..m).filter_map(|i| (o + 1).checked_sub(2 * i).filter(|t| *t < 4).map(|t| (i, t))).collect()
}

/// The engine's bilinear taps of output `o` of `2m` from `m` (`align_corners=False`):
/// `(source, lo, hi, w_lo, w_hi)`, weights in `f32` as the engine rounds them.
fn bilinear_taps(o: usize, m: usize) -> (f64, usize, usize, f64, f64) {
    let src = ((o as f64 + 0.5) * (m as f64 / (2 * m) as f64) - 0.5).max(0.0);
    let lo = (src as usize).min(m - 1);
    let hi = if lo + 1 < m { lo + 1 } else { lo };
    let w_hi = src - lo as f64;
    (src, lo, hi, 1.0 - w_hi, w_hi)
}

/// How `dec.k` upsampled channel `channel` (of its upsampled map) at `pos`.
pub fn upsample(ctx: &Ctx, name: &str, channel: usize, pos: Position) -> Option<UpCloseup> {
    let stage = ctx.stage(name).filter(|s| s.kind == StageKind::Decoder)?;
    let parts = stage.parts.as_ref()?;
    let k = stage.level;
    let deep_name = ctx.deep_name(k);
    let deep = ctx.stage(&deep_name)?;
    let c = parts_channel(stage, channel);
    let at = pos.at_level(k);
    let v = value(&parts.upsampled, c, at.0, at.1)?;
    Some(match ctx.variant.upsample {
        Upsample::Unpool => {
            let pool = ctx.stage(&format!("pool.{k}"))?;
            let deep_at = (at.0 / 2, at.1 / 2);
            let ps = pool.planes.shape;
            let argmax = pool.argmax.as_ref()?[(c * ps.height + deep_at.0) * ps.width + deep_at.1];
            let cell = (2 * (at.0 % 2) + at.1 % 2) as u8;
            let window = [0, 1, 2, 3].map(|i| value(&parts.upsampled, c, 2 * deep_at.0 + i / 2, 2 * deep_at.1 + i % 2));
            UpCloseup::Unpool(UnpoolCloseup {
                k,
                channel: c,
                at,
                deep_name,
                deep_at,
                deep_value: value(&deep.planes, c, deep_at.0, deep_at.1)?,
                argmax,
                cell,
                window,
                value: v,
            })
        }
        Upsample::Transposed => {
            let w = parts.weights.up_weight.as_ref()?;
            let b = parts.weights.up_bias.as_ref()?;
            let n = parts.upsampled.shape.channels;
            if w.len() != n * 16 * n || b.len() != n {
                return None;
            }
            let (mh, mw) = (ctx.full.0 >> (k + 1), ctx.full.1 >> (k + 1));
            let mut taps = Vec::new();
            for (iy, ky) in transposed_taps(at.0, mh) {
                for &(ix, kx) in &transposed_taps(at.1, mw) {
                    let weight = |ci: usize| w[((ci * 4 + ky) * 4 + kx) * n + c];
                    let contribution = (0..n).map(|ci| value(&deep.planes, ci, iy, ix).map(|d| d * weight(ci))).sum::<Option<f32>>();
                    let own = value(&deep.planes, c, iy, ix).map(|d| (d, weight(c)));
                    taps.push(Tap { at: (iy, ix), kernel: (ky, kx), contribution, own });
                }
            }
            let sum = taps.iter().map(|t| t.contribution).sum::<Option<f32>>().map(|s| s + b[c]);
            UpCloseup::Transposed(TransposedCloseup { k, channel: c, at, deep_name, channels: n, taps, bias: b[c], sum, value: v })
        }
        Upsample::Bilinear => {
            let (mh, mw) = (ctx.full.0 >> (k + 1), ctx.full.1 >> (k + 1));
            let (sy, ylo, yhi, wylo, wyhi) = bilinear_taps(at.0, mh);
            let (sx, xlo, xhi, wxlo, wxhi) = bilinear_taps(at.1, mw);
            let tap = |y: usize, x: usize, weight: f64| BilinearTap { at: (y, x), weight: weight as f32, value: value(&deep.planes, c, y, x) };
            let taps = [tap(ylo, xlo, wylo * wxlo), tap(ylo, xhi, wylo * wxhi), tap(yhi, xlo, wyhi * wxlo), tap(yhi, xhi, wyhi * wxhi)];
            let sum = taps.iter().try_fold(0.0f32, |acc, t| t.value.map(|v| acc + t.weight * v));
            UpCloseup::Bilinear(BilinearCloseup { k, channel: c, at, deep_name, source: (sy, sx), taps, sum, value: v })
        }
    })
}

/// The skip of `dec.k` at `pos`, channel `channel` of its upsampled map (none without a skip).
pub fn skip(ctx: &Ctx, name: &str, channel: usize, pos: Position) -> Option<SkipCloseup> {
    let stage = ctx.stage(name).filter(|s| s.kind == StageKind::Decoder)?;
    let parts = stage.parts.as_ref()?;
    let k = stage.level;
    let c = parts_channel(stage, channel);
    let at = pos.at_level(k);
    let upsampled = value(&parts.upsampled, c, at.0, at.1)?;
    let n = parts.upsampled.shape.channels;
    match ctx.variant.skip {
        Skip::None => None,
        Skip::Add => {
            let enc = ctx.stage(&format!("enc.{k}"))?;
            let (w, b) = (parts.weights.proj_weight.as_ref()?, parts.weights.proj_bias.as_ref()?);
            if w.len() != n * n || b.len() != n {
                return None;
            }
            let mut contributions: Vec<Contribution> = (0..n)
                .map(|ci| value(&enc.planes, ci, at.0, at.1).map(|input| Contribution { channel: ci, input, weight: w[ci * n + c] }))
                .collect::<Option<_>>()?;
            let sum = b[c] + contributions.iter().map(Contribution::product).sum::<f32>();
            contributions.sort_by(|a, b| b.product().abs().total_cmp(&a.product().abs()));
            Some(SkipCloseup::Add {
                k,
                channel: c,
                at,
                upsampled,
                skip: value(parts.skip.as_ref()?, c, at.0, at.1)?,
                fused: value(&parts.fused, c, at.0, at.1)?,
                bias: b[c],
                contributions,
                sum,
            })
        }
        Skip::Concat => Some(SkipCloseup::Concat {
            k,
            channel: c,
            at,
            channels: n,
            upsampled,
            encoder: value(parts.skip.as_ref()?, c, at.0, at.1)?,
            stacked_up: value(&parts.fused, c, at.0, at.1)?,
            stacked_skip: value(&parts.fused, n + c, at.0, at.1)?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Dataset, InputImage, Request, Response, TracePart};
    use crate::trace::{Engine, RANDOM_SEED};
    use skipscope_engine::param::Module;
    use skipscope_engine::{Model, ModelConfig};
    use std::rc::Rc;

    /// A 45 x 61 picture in a 48 x 64 input (odd crops at every level).
    fn image() -> InputImage {
        let (h, w) = (48, 64);
        InputImage { height: h, width: w, valid_height: 45, valid_width: 61, rgb: (0..h * w * 3).map(|i| (i * 29 % 253) as u8).collect() }
    }

    fn trace(variant: Variant) -> Vec<Shared<StageData>> {
        let mut out = Vec::new();
        Engine::new().handle(Request::Trace { serial: 1, dataset: Dataset::Ccp, variant, image: image(), part: TracePart::Whole }, &|| 0.0, &mut |r| {
            if let Response::Stage { stage, .. } = r {
                out.push(Shared(Rc::new(stage)))
            }
        });
        out
    }

    /// The engine's random fallback for `variant` on CCP, folded: the weights the worker ran.
    fn engine_weights(variant: Variant, name: &str) -> Vec<f32> {
        let (depth, width) = crate::trace::fallback_architecture(Dataset::Ccp);
        let config = ModelConfig { in_channels: 3, n_classes: Dataset::Ccp.classes().len(), depth, width, upsample: variant.upsample, skip: variant.skip };
        let mut m = Model::<f32>::new(config, RANDOM_SEED).unwrap();
        m.fold_batch_norm();
        let mut found = Vec::new();
        m.visit_params("", &mut |n, p| {
            if n == name {
                found = p.value.iter().copied().collect();
            }
        });
        found
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    /// Positions: inner, the picture's last row and column, the origin.
    fn positions() -> [Position; 4] {
        [Position { y: 21, x: 33 }, Position { y: 44, x: 60 }, Position { y: 0, x: 0 }, Position { y: 30, x: 7 }]
    }

    #[test]
    fn pool_and_unpool_close_ups_match_the_engine() {
        let variant = Variant::new(Upsample::Unpool, Skip::Concat);
        let stages = trace(variant);
        let ctx = Ctx { stages: &stages, variant, depth: 4, full: (48, 64) };
        for pos in positions() {
            for k in 0..4 {
                let p = pool(&ctx, &format!("pool.{k}"), 3, pos).unwrap();
                assert_eq!(p.at, pos.at_level(k + 1));
                // The recorded maximum is the output, and no held value of the window exceeds it.
                // (At the picture's edge the maximum can lie in the padding, which the page lacks.)
                if let Some(v) = p.window[p.argmax as usize] {
                    assert_eq!(v, p.output, "pool.{k} {pos:?}");
                }
                assert!(p.window.iter().flatten().all(|v| *v <= p.output));
                if pos.y < 40 && pos.x < 56 {
                    assert!(p.window.iter().all(Option::is_some), "inside the picture the window is held");
                }
                let UpCloseup::Unpool(u) = upsample(&ctx, &format!("dec.{k}"), 3, pos).unwrap() else { panic!() };
                // The deep value goes back at the recorded index, zeros elsewhere.
                for (i, v) in u.window.iter().enumerate() {
                    if let Some(v) = v {
                        assert_eq!(*v, if i == u.argmax as usize { u.deep_value } else { 0.0 }, "dec.{k} {pos:?} cell {i}");
                    }
                }
                assert_eq!(u.window[u.cell as usize], Some(u.value));
                assert_eq!(u.argmax, pool(&ctx, &format!("pool.{k}"), 3, Position::of_map(u.deep_at.0, u.deep_at.1, k + 1, 45, 61)).unwrap().argmax);
            }
        }
    }

    #[test]
    fn transposed_and_concat_close_ups_match_the_engine() {
        let variant = Variant::new(Upsample::Transposed, Skip::Concat);
        let stages = trace(variant);
        let ctx = Ctx { stages: &stages, variant, depth: 4, full: (48, 64) };
        let mut summed = 0;
        for pos in positions() {
            for k in 0..4 {
                let name = format!("dec.{k}");
                let stage = stages.iter().find(|s| s.name == name).unwrap();
                assert_eq!(stage.parts.as_ref().unwrap().weights.up_weight.as_ref().unwrap(), &engine_weights(variant, &format!("{name}.up.weight")));
                let UpCloseup::Transposed(t) = upsample(&ctx, &name, 2, pos).unwrap() else { panic!() };
                assert!((1..=4).contains(&t.taps.len()));
                for tap in &t.taps {
                    assert_eq!(2 * tap.at.0 + tap.kernel.0, t.at.0 + 1);
                    assert_eq!(2 * tap.at.1 + tap.kernel.1, t.at.1 + 1);
                }
                if let Some(sum) = t.sum {
                    assert!(close(sum, t.value), "{name} {pos:?}: {sum} vs {}", t.value);
                    summed += 1;
                }
                let Some(SkipCloseup::Concat { channels, upsampled, encoder, stacked_up, stacked_skip, at, .. }) = skip(&ctx, &name, 2, pos) else { panic!() };
                let enc = stages.iter().find(|s| s.name == format!("enc.{k}")).unwrap();
                assert_eq!((stacked_up, stacked_skip), (upsampled, encoder));
                assert_eq!(Some(encoder), value(&enc.planes, 2, at.0, at.1));
                assert_eq!(channels, enc.planes.shape.channels);
            }
        }
        assert!(summed >= 12, "most positions hold every input ({summed})");
    }

    #[test]
    fn bilinear_and_add_close_ups_match_the_engine() {
        let variant = Variant::new(Upsample::Bilinear, Skip::Add);
        let stages = trace(variant);
        let ctx = Ctx { stages: &stages, variant, depth: 4, full: (48, 64) };
        for pos in positions() {
            for k in 0..4 {
                let name = format!("dec.{k}");
                let UpCloseup::Bilinear(b) = upsample(&ctx, &name, 1, pos).unwrap() else { panic!() };
                assert!(close(b.taps.iter().map(|t| t.weight).sum(), 1.0));
                if let Some(sum) = b.sum {
                    assert!(close(sum, b.value), "{name} {pos:?}");
                }
                let stage = stages.iter().find(|s| s.name == name).unwrap();
                assert_eq!(stage.parts.as_ref().unwrap().weights.proj_weight.as_ref().unwrap(), &engine_weights(variant, &format!("{name}.proj.weight")));
                let Some(SkipCloseup::Add { upsampled, skip: term, fused, sum, contributions, .. }) = skip(&ctx, &name, 1, pos) else { panic!() };
                assert!(close(sum, term), "{name} {pos:?}: 1x1 {sum} vs engine {term}");
                assert!(close(upsampled + term, fused));
                assert_eq!(contributions.len(), stage.parts.as_ref().unwrap().upsampled.shape.channels);
                assert!(contributions.windows(2).all(|w| w[0].product().abs() >= w[1].product().abs()));
            }
        }
        // Interior bilinear output 5 of 2 x 4: source 2.25, between 2 (0.75) and 3 (0.25).
        assert_eq!(bilinear_taps(5, 4), (2.25, 2, 3, 0.75, 0.25));
        assert_eq!(transposed_taps(0, 4), vec![(0, 1)]);
        assert_eq!(transposed_taps(3, 4), vec![(1, 2), (2, 0)]);
    }
}

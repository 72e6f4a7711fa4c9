//! Which input pixels each value of each stage depends on, from the architecture alone.
//!
//! Every operation of the model family acts on rows and columns separately (3x3 and 1x1
//! convolutions, 2x2 pooling, the three x2 upsamplers, the skip's sum or stack), so a value's
//! receptive field is a rectangle: a [`Span`] of input rows times a [`Span`] of input columns.
//! The spans are exact supports, borders included: zero padding adds no dependency, and
//! bilinear taps with weight zero add none. A max-unpooled value may depend on its deep value
//! and on the whole pooling window whose argmax decides where that value goes; which
//! positions of the window receive it is decided by the data, so past max unpooling a field
//! is what a value may depend on.
//!
//! `crates/engine/tests/receptive_field.rs` checks them against the engine: changing an input
//! pixel outside a value's field never changes it, and each edge of the field holds a pixel
//! that does (past max unpooling, only that no pixel outside moves it).

use crate::model::{stage_names, ModelConfig, Skip, Upsample};

/// An inclusive range of input rows (or columns): `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub lo: usize,
    pub hi: usize,
}

impl Span {
    fn point(i: usize) -> Self {
        Span { lo: i, hi: i }
    }

    fn union(self, other: Span) -> Span {
        Span { lo: self.lo.min(other.lo), hi: self.hi.max(other.hi) }
    }

    /// How many input rows (or columns) it covers.
    pub fn len(&self) -> usize {
        self.hi - self.lo + 1
    }

    /// Never true: a span covers at least one row.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The receptive fields of one stage's map.
#[derive(Clone, Debug, PartialEq)]
pub struct StageField {
    /// As in [`stage_names`].
    pub name: String,
    /// The map is `H / 2^level` by `W / 2^level`; one value per `4^level` input pixels.
    pub level: usize,
    /// `rows[y]`: the input rows that row `y` of the map depends on.
    pub rows: Vec<Span>,
    /// `cols[x]`: the input columns that column `x` of the map depends on.
    pub cols: Vec<Span>,
}

impl StageField {
    /// The input rectangle `(rows, columns)` that the value at `(y, x)` of this map depends on.
    ///
    /// # Panics
    /// If `(y, x)` is outside the map.
    pub fn region(&self, y: usize, x: usize) -> (Span, Span) {
        (self.rows[y], self.cols[x])
    }

    /// How many input pixels one value of the map stands for: `4^level`.
    pub fn pixels_per_value(&self) -> usize {
        1 << (2 * self.level)
    }
}

/// The receptive field of every stage of `config`'s model on a `height x width` input, in
/// the order of [`stage_names`] (`head` last).
///
/// # Shapes
/// - `height`, `width`: multiples of `2^depth` (as the model requires)
/// - returns: one [`StageField`] per stage; stage `s` has `height >> s.level` rows and
///   `width >> s.level` columns
pub fn receptive_fields(config: &ModelConfig, height: usize, width: usize) -> Vec<StageField> {
    let rows = axis_fields(config, height);
    let cols = axis_fields(config, width);
    stage_names(config.depth)
        .into_iter()
        .zip(rows.into_iter().zip(cols))
        .map(|(name, ((level, rows), (_, cols)))| StageField { name, level, rows, cols })
        .collect()
}

/// One axis of [`receptive_fields`]: `(level, spans)` per stage, in stage order.
fn axis_fields(config: &ModelConfig, n: usize) -> Vec<(usize, Vec<Span>)> {
    let depth = config.depth;
    let input: Vec<Span> = (0..n).map(Span::point).collect();
    let mut stages = vec![(0, input.clone())];
    let mut encoders = Vec::with_capacity(depth);
    let mut h = input;
    for k in 0..depth {
        let e = conv(&conv(&h, 1), 1);
        stages.push((k, e.clone()));
        h = pool(&e);
        stages.push((k + 1, h.clone()));
        encoders.push(e);
    }
    h = conv(&conv(&h, 1), 1);
    stages.push((depth, h.clone()));
    for k in (0..depth).rev() {
        let e = &encoders[k];
        let up: Vec<Span> = (0..e.len())
            .map(|y| match config.upsample {
                Upsample::Unpool => h[y / 2].union(e[y & !1]).union(e[y | 1]),
                Upsample::Transposed => transposed_taps(y, h.len()).map(|i| h[i]).reduce(Span::union).expect("every output has a tap"),
                Upsample::Bilinear => bilinear_taps(y, h.len()).map(|i| h[i]).reduce(Span::union).expect("every output has a tap"),
            })
            .collect();
        let fused: Vec<Span> = match config.skip {
            Skip::None => up,
            Skip::Add | Skip::Concat => up.iter().zip(e).map(|(u, s)| u.union(*s)).collect(),
        };
        h = conv(&conv(&fused, 1), 1);
        stages.push((k, h.clone()));
    }
    stages.push((0, h));
    stages
}

/// A `(2r + 1)`-tap convolution with zero padding `r`.
fn conv(x: &[Span], r: usize) -> Vec<Span> {
    (0..x.len()).map(|y| x[y.saturating_sub(r)..=(y + r).min(x.len() - 1)].iter().copied().reduce(Span::union).expect("non-empty window")).collect()
}

/// 2x2 pooling, stride 2.
fn pool(x: &[Span]) -> Vec<Span> {
    x.chunks_exact(2).map(|w| w[0].union(w[1])).collect()
}

/// The inputs of output `y` of a kernel-4, stride-2, padding-1 transposed convolution from
/// `m` inputs: `y = 2 i - 1 + t` for a kernel tap `t` in `0..4`.
fn transposed_taps(y: usize, m: usize) -> impl Iterator<Item = usize> {
    let lo = y.saturating_sub(2).div_ceil(2);
    let hi = y.div_ceil(2).min(m - 1);
    lo..=hi
}

/// The inputs with a non-zero weight for output `y` of bilinear x2 upsampling from `m`
/// inputs, `align_corners=False`: source `(y + 0.5) / 2 - 0.5`, clamped at 0.
fn bilinear_taps(y: usize, m: usize) -> impl Iterator<Item = usize> {
    let (lo, hi) = if y & 1 == 0 {
        // source y / 2 - 0.25: between y/2 - 1 and y/2 (only y/2 at the top edge).
        ((y / 2).saturating_sub(1), y / 2)
    } else {
        // source (y - 1) / 2 + 0.25: between (y-1)/2 and (y+1)/2 (one tap at the bottom edge).
        ((y - 1) / 2, y.div_ceil(2).min(m - 1))
    };
    lo..=hi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(depth: usize, upsample: Upsample, skip: Skip) -> ModelConfig {
        ModelConfig { in_channels: 3, n_classes: 4, depth, width: 4, upsample, skip }
    }

    #[test]
    fn the_encoder_grows_as_the_textbook_formula_says() {
        // Away from the borders: two 3x3 convolutions add 2 * jump each side per stage, a
        // 2x2 pooling adds one jump on one side and doubles the jump.
        let fields = receptive_fields(&config(4, Upsample::Bilinear, Skip::None), 256, 256);
        let by_name = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by_name("enc.0").rows[100].len(), 5);
        assert_eq!(by_name("pool.0").rows[50].len(), 6);
        assert_eq!(by_name("enc.1").rows[50].len(), 14);
        assert_eq!(by_name("pool.3").pixels_per_value(), 256);
        assert_eq!(by_name("pool.3").rows.len(), 16);
        assert_eq!(fields.last().unwrap().name, "head");
        assert_eq!(fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), stage_names(4));
    }

    #[test]
    fn a_skip_never_shrinks_a_field_and_borders_clip() {
        for upsample in Upsample::ALL {
            let none = receptive_fields(&config(3, upsample, Skip::None), 64, 64);
            let add = receptive_fields(&config(3, upsample, Skip::Add), 64, 64);
            for (a, b) in none.iter().zip(&add) {
                for (ra, rb) in a.rows.iter().zip(&b.rows) {
                    assert!(rb.lo <= ra.lo && rb.hi >= ra.hi, "{upsample} {}", a.name);
                }
            }
            let head = add.last().unwrap();
            assert_eq!(head.rows[0].lo, 0);
            assert_eq!(head.rows[63].hi, 63);
        }
    }

    #[test]
    fn upsampler_taps_follow_their_definitions() {
        // Transposed k4 s2 p1 from 4 inputs: output y reads i with 0 <= y + 1 - 2 i < 4.
        for y in 0..8 {
            let brute: Vec<usize> = (0..4).filter(|&i| (y as i64 + 1 - 2 * i as i64).clamp(0, 3) == y as i64 + 1 - 2 * i as i64).collect();
            assert_eq!(transposed_taps(y, 4).collect::<Vec<_>>(), brute, "transposed y={y}");
        }
        // Bilinear from 4 inputs: the taps with a non-zero weight.
        for y in 0..8 {
            let src = ((y as f64 + 0.5) / 2.0 - 0.5).max(0.0);
            let i0 = src.floor() as usize;
            let frac = src - i0 as f64;
            let mut brute = vec![i0];
            if frac > 0.0 && i0 + 1 < 4 {
                brute.push(i0 + 1);
            }
            assert_eq!(bilinear_taps(y, 4).collect::<Vec<_>>(), brute, "bilinear y={y}");
        }
    }
}

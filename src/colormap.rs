//! Colour maps for heatmaps: viridis (perceptual, for maps of one sign) and a blue-white-red
//! diverging map (for signed maps, zero is white).

const VIRIDIS: [[u8; 3]; 9] =
    [[68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140], [40, 174, 128], [94, 201, 98], [173, 220, 48], [253, 231, 37]];

/// ColorBrewer RdBu reversed: negative blue, zero near white, positive red.
const DIVERGING: [[u8; 3]; 9] =
    [[33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43]];

/// `x.round()` for `x >= 0` (and `-0.0`), without the library call.
#[inline]
fn round_non_negative(x: f32) -> f32 {
    let whole = x.trunc();
    if x - whole >= 0.5 {
        whole + 1.0
    } else {
        whole
    }
}

fn lerp(stops: &[[u8; 3]; 9], t: f32) -> [u8; 3] {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let f = t * 8.0;
    let i = (f as usize).min(7);
    let u = f - i as f32;
    let (a, b) = (stops[i], stops[i + 1]);
    std::array::from_fn(|k| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * u).round() as u8)
}

/// How values become colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub lo: f32,
    pub hi: f32,
    /// Diverging around zero (then `lo = -hi`).
    pub signed: bool,
}

impl Scale {
    /// The scale for values spanning `lo..=hi`: diverging and symmetric when they take both
    /// signs, viridis otherwise.
    pub fn for_range(lo: f32, hi: f32) -> Self {
        if lo < 0.0 && hi > 0.0 {
            let m = lo.abs().max(hi);
            Self { lo: -m, hi: m, signed: true }
        } else {
            Self { lo, hi, signed: false }
        }
    }

    pub fn of(values: &[f32]) -> Self {
        let (lo, hi) = values.iter().filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        if lo > hi {
            return Self { lo: 0.0, hi: 1.0, signed: false };
        }
        Self::for_range(lo, hi)
    }

    pub fn color(&self, v: f32) -> [u8; 3] {
        let span = self.hi - self.lo;
        let t = if span > 0.0 { (v - self.lo) / span } else { 0.5 };
        lerp(if self.signed { &DIVERGING } else { &VIRIDIS }, t)
    }

    /// RGBA pixels of `values` (row-major): exactly [`Scale::color`] of each (tested), in a
    /// loop without its per-pixel costs: the span's inverse and the stops are taken once,
    /// and rounding is `trunc` plus a comparison (the colour channels are never negative)
    /// where `f32::round` is a library call in wasm.
    pub fn rgba(&self, values: &[f32]) -> Vec<u8> {
        let mut out = vec![255u8; values.len() * 4];
        let stops = if self.signed { &DIVERGING } else { &VIRIDIS };
        let span = self.hi - self.lo;
        let stops_f: [[f32; 3]; 9] = std::array::from_fn(|i| stops[i].map(f32::from));
        for (px, &v) in out.chunks_exact_mut(4).zip(values) {
            let t = if span > 0.0 { (v - self.lo) / span } else { 0.5 };
            let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
            let f = t * 8.0;
            let i = (f as usize).min(7);
            let u = f - i as f32;
            let (a, b) = (stops_f[i], stops_f[i + 1]);
            for k in 0..3 {
                let x = a[k] + (b[k] - a[k]) * u;
                px[k] = round_non_negative(x) as u8;
            }
        }
        out
    }

    /// The CSS gradient of this map, for legends.
    pub fn css_gradient(&self) -> String {
        let stops = if self.signed { &DIVERGING } else { &VIRIDIS };
        let parts: Vec<String> = stops.iter().map(|[r, g, b]| format!("rgb({r},{g},{b})")).collect();
        format!("linear-gradient(to right, {})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_values_diverge_around_white_and_others_use_viridis() {
        let signed = Scale::of(&[-1.0, 2.0]);
        assert!(signed.signed && signed.lo == -2.0 && signed.hi == 2.0);
        assert_eq!(signed.color(0.0), [247, 247, 247]);
        let plain = Scale::of(&[0.0, 1.0, f32::NAN]);
        assert!(!plain.signed);
        assert_eq!(plain.color(0.0), [68, 1, 84]);
        assert_eq!(plain.color(1.0), [253, 231, 37]);
        assert_eq!(plain.color(f32::NAN), [68, 1, 84], "not a number: the low end");
        assert_eq!(Scale::of(&[]).rgba(&[0.5]).len(), 4);
        assert!(plain.css_gradient().starts_with("linear-gradient(to right, rgb(68,1,84)"));
    }

    #[test]
    fn rgba_is_color_of_every_value() {
        // Every value kind: both maps, the stops themselves, halfway points between the
        // colour steps, out of range, not finite, an empty span.
        let mut values: Vec<f32> = (0..200_001).map(|i| -3.0 + 6.0 * i as f32 / 200_000.0).collect();
        values.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, f32::MIN_POSITIVE, f32::MAX, f32::MIN, 0.5, 1.0 / 8.0, 7.0 / 8.0]);
        let mut state = 0x2545_f491_u32;
        values.extend((0..100_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f32::from_bits(state & 0x7fff_ffff | (state & 1) << 31)
        }));
        for scale in [Scale::of(&[-1.0, 2.0]), Scale::of(&[0.0, 1.0]), Scale::of(&[0.25, 0.25]), Scale::for_range(-1e-30, 3e-30), Scale::for_range(0.1, 1e30)] {
            let fast = scale.rgba(&values);
            for (i, &v) in values.iter().enumerate() {
                let [r, g, b] = scale.color(v);
                assert_eq!(&fast[4 * i..4 * i + 4], &[r, g, b, 255], "{scale:?} at {v}");
            }
        }
        for x in [0.0f32, -0.0, 0.49999997, 0.5, 1.5, 2.5, 254.5, 254.49998, 255.0] {
            assert_eq!(round_non_negative(x), x.round(), "{x}");
        }
        // Every float within 4096 steps of each half and whole number up to 256.
        for n in 0..512 {
            let bits = (n as f32 / 2.0).to_bits() as i64;
            for d in -4096..=4096 {
                let x = f32::from_bits((bits + d).max(0) as u32);
                assert_eq!(round_non_negative(x), x.round(), "{x}");
            }
        }
    }
}

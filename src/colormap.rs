//! Colour maps for heatmaps: viridis (perceptual, for maps of one sign) and a blue-white-red
//! diverging map (for signed maps, zero is white).

const VIRIDIS: [[u8; 3]; 9] =
    [[68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140], [40, 174, 128], [94, 201, 98], [173, 220, 48], [253, 231, 37]];

/// ColorBrewer RdBu reversed: negative blue, zero near white, positive red.
const DIVERGING: [[u8; 3]; 9] =
    [[33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43]];

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

    /// RGBA pixels of `values` (row-major).
    pub fn rgba(&self, values: &[f32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() * 4);
        for &v in values {
            let [r, g, b] = self.color(v);
            out.extend_from_slice(&[r, g, b, 255]);
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
}

//! The text alternatives of the page's canvases, pure: every canvas that shows data is a
//! `role="img"` whose accessible name says what it shows. A map names its stage, the
//! channel, its shape as `H x W x C` and its value range `min..max` (the finite values'
//! extremes, three decimals); a mask its variant, its size and the classes it shows with
//! their shares (largest first); a photo its size.

use crate::masks::class_counts;
use crate::protocol::{MapShape, Mask};
use std::fmt::Write;

/// The smallest and largest finite value (none when there is none).
pub fn range(values: &[f32]) -> Option<(f32, f32)> {
    let (lo, hi) = values.iter().filter(|v| v.is_finite()).fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    (lo <= hi).then_some((lo, hi))
}

/// `values lo..hi` with three decimals (`-0.000` written `0.000`), or `no finite values`.
pub fn range_text(values: &[f32]) -> String {
    let f = |v: f32| {
        let s = format!("{v:.3}");
        if s == "-0.000" {
            "0.000".into()
        } else {
            s
        }
    };
    match range(values) {
        Some((lo, hi)) => format!("values {}..{}", f(lo), f(hi)),
        None => "no finite values".into(),
    }
}

/// One channel of a map: e.g. `dec.1 fused, channel 3 of 32: 48 x 64 x 32 (H x W x C),
/// values -0.512..2.031`. `what` names the stage and, for a decoder's parts, the part;
/// `values` are the channel's (`H x W`).
pub fn map(what: &str, shape: MapShape, channel: usize, values: &[f32]) -> String {
    format!("{what}, channel {channel} of {c}: {h} x {w} x {c} (H x W x C), {}", range_text(values), c = shape.channels, h = shape.height, w = shape.width)
}

/// A single-channel map of the given size (the skip's share, a photo-sized picture):
/// e.g. `dec.0: the skip's share, 96 x 128 x 1 (H x W x C), values 0.120..0.870`.
pub fn plane(what: &str, height: usize, width: usize, values: &[f32]) -> String {
    format!("{what}, {height} x {width} x 1 (H x W x C), {}", range_text(values))
}

/// A mask: e.g. `live mask: transposed-concat, 96 x 128: classes shown road 41%, sky 20%,
/// building 18%` (classes under 1% of the pixels are named without a share). `what` says
/// where (`the mask over the photo`, `live mask`); `names` are the model's classes in order.
pub fn mask(what: &str, variant: &str, mask: &Mask, names: &[&str]) -> String {
    let counts = class_counts(mask, names.len());
    let total = mask.classes.len().max(1) as f64;
    let mut shown: Vec<(usize, usize)> = counts.iter().copied().enumerate().filter(|(_, n)| *n > 0).collect();
    shown.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = format!("{what}: {variant}, {} x {}: classes shown ", mask.height, mask.width);
    for (i, (c, n)) in shown.iter().enumerate() {
        let share = 100.0 * *n as f64 / total;
        let _ = write!(out, "{}{}", if i > 0 { ", " } else { "" }, names[*c]);
        if share >= 1.0 {
            let _ = write!(out, " {share:.0}%");
        }
    }
    if shown.is_empty() {
        out.push_str("none");
    }
    out
}

/// A photo (or a picture drawn from it): `the photo, 90 x 120 pixels`.
pub fn photo(what: &str, height: usize, width: usize) -> String {
    format!("{what}, {height} x {width} pixels")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maps_label_has_its_shape_and_range() {
        let shape = MapShape { channels: 4, height: 2, width: 3 };
        let values = [0.5, -1.25, f32::NAN, 2.0, 0.0, -0.0];
        assert_eq!(map("dec.1 fused", shape, 2, &values), "dec.1 fused, channel 2 of 4: 2 x 3 x 4 (H x W x C), values -1.250..2.000");
        assert_eq!(range_text(&[-0.0001, 0.0]), "values 0.000..0.000");
        assert_eq!(range_text(&[f32::NAN]), "no finite values");
        assert_eq!(plane("dec.0: the skip's share", 2, 3, &[0.25, 0.75]), "dec.0: the skip's share, 2 x 3 x 1 (H x W x C), values 0.250..0.750");
    }

    #[test]
    fn a_masks_label_names_its_variant_and_classes_by_share() {
        let m = Mask {
            height: 2,
            width: 100,
            classes: (0..200)
                .map(|i| {
                    if i < 150 {
                        2
                    } else if i < 198 {
                        0
                    } else if i < 199 {
                        3
                    } else {
                        1
                    }
                })
                .collect(),
        };
        assert_eq!(
            mask("live mask", "transposed-add", &m, &["sky", "road", "tree", "car"]),
            "live mask: transposed-add, 2 x 100: classes shown tree 75%, sky 24%, road, car"
        );
        let empty = Mask { height: 0, width: 0, classes: vec![] };
        assert!(mask("m", "v", &empty, &["a"]).ends_with("classes shown none"));
    }
}

//! A small synthetic segmentation task drawn on the fly: bright filled rectangles
//! (class 1) and bright one-pixel lines (class 2) on a dark, noisy background (class 0).
//!
//! Both shapes look the same pixel by pixel; telling them apart needs context, and
//! placing a one-pixel line needs the full-resolution detail that pooling erases, which
//! is what skips bring back.

use crate::rng::Rng;
use ndarray::{Array3, Array4};

pub const BACKGROUND: u8 = 0;
pub const BLOB: u8 = 1;
pub const LINE: u8 = 2;
pub const CLASSES: usize = 3;

/// A batch of `n` images `[n, size, size, 3]` and labels `[n, size, size]`.
pub fn thin_shapes(n: usize, size: usize, rng: &mut Rng) -> (Array4<f32>, Array3<u8>) {
    let mut labels = Array3::from_elem((n, size, size), BACKGROUND);
    for b in 0..n {
        for _ in 0..2 {
            let (h, w) = (size / 5 + rng.below(size / 4), size / 5 + rng.below(size / 4));
            let (y0, x0) = (rng.below(size - h), rng.below(size - w));
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    labels[[b, y, x]] = BLOB;
                }
            }
        }
        for _ in 0..3 {
            let at = 1 + rng.below(size - 2);
            let (from, to) = (rng.below(size / 2), size / 2 + rng.below(size / 2));
            let horizontal = rng.below(2) == 0;
            for t in from..to {
                let (y, x) = if horizontal { (at, t) } else { (t, at) };
                labels[[b, y, x]] = LINE;
            }
        }
    }
    let images = Array4::from_shape_fn((n, size, size, 3), |(b, y, x, _)| {
        let base = if labels[[b, y, x]] == BACKGROUND { -0.5 } else { 0.5 };
        base + 0.2 * rng.normal() as f32
    });
    (images, labels)
}

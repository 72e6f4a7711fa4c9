//! A small synthetic segmentation task drawn on the fly: bright filled rectangles
//! (class 1) and bright one-pixel lines (class 2) on a dark, noisy background (class 0).
//!
//! Both shapes look the same pixel by pixel; telling them apart needs context, and
//! placing a one-pixel line needs the full-resolution detail that pooling erases, which
//! is what skips bring back.

use crate::error::{EngineError, Result};
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

/// The thin structures of [`task`]: lines one or two pixels wide and small dots share
/// one class, so a model must place them at full resolution to score on it.
pub const THIN: u8 = 2;

/// Which thin structures [`task`] draws beside its blobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Straight lines one or two pixels wide, at any angle.
    Lines,
    /// Square dots two or three pixels wide.
    Dots,
    /// Both.
    Mixed,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Lines, Task::Dots, Task::Mixed];

    pub fn name(self) -> &'static str {
        match self {
            Task::Lines => "lines",
            Task::Dots => "dots",
            Task::Mixed => "mixed",
        }
    }

    /// What a person calls it: "thin lines", "small objects", "mixed".
    pub fn label(self) -> &'static str {
        match self {
            Task::Lines => "thin lines",
            Task::Dots => "small objects",
            Task::Mixed => "mixed",
        }
    }
}

crate::model::named_enum!(Task, "task");

/// A batch of the seeded task of the page's "train it yourself" view: images
/// `[n, size, size, 3]` and labels `[n, size, size]` with classes [`BACKGROUND`], [`BLOB`]
/// (filled discs) and [`THIN`] (lines one or two pixels wide, small dots, or both, as `task`
/// says). Every shape is equally bright on a noisy dark background, so only its size tells
/// a blob from a thin structure; thin structures are drawn on the background only (a line
/// crossing a blob is interrupted). Counts scale with the area; `size >= 16`.
///
/// # Shapes
/// - returns: images `[n, size, size, 3]`, labels `[n, size, size]`
pub fn task(task: Task, n: usize, size: usize, rng: &mut Rng) -> (Array4<f32>, Array3<u8>) {
    let size = size.max(16);
    let area = (size * size) as f64 / (64.0 * 64.0);
    let count = |per_64: f64| ((per_64 * area).round() as usize).max(1);
    let mut labels = Array3::from_elem((n, size, size), BACKGROUND);
    for b in 0..n {
        let mut plane = labels.index_axis_mut(ndarray::Axis(0), b);
        for _ in 0..count(2.0) + rng.below(2) {
            let r = (size / 12 + rng.below(size / 10 + 1)) as f64;
            let (cy, cx) = (rng.uniform() * size as f64, rng.uniform() * size as f64);
            for y in 0..size {
                for x in 0..size {
                    let (dy, dx) = (y as f64 + 0.5 - cy, x as f64 + 0.5 - cx);
                    if dy * dy + dx * dx <= r * r {
                        plane[[y, x]] = BLOB;
                    }
                }
            }
        }
        let thin = |y: isize, x: isize, plane: &mut ndarray::ArrayViewMut2<u8>| {
            if (0..size as isize).contains(&y) && (0..size as isize).contains(&x) && plane[[y as usize, x as usize]] == BACKGROUND {
                plane[[y as usize, x as usize]] = THIN;
            }
        };
        if task != Task::Dots {
            for _ in 0..count(3.0) + rng.below(2) {
                let (y0, x0) = (rng.uniform() * size as f64, rng.uniform() * size as f64);
                let angle = rng.uniform() * std::f64::consts::PI;
                let length = size as f64 * (0.3 + 0.4 * rng.uniform());
                let wide = rng.below(2) == 1;
                let (dy, dx) = (angle.sin(), angle.cos());
                let steps = (length * 2.0) as usize;
                for t in 0..steps {
                    let s = t as f64 * 0.5 - length / 2.0;
                    let (y, x) = ((y0 + s * dy).floor() as isize, (x0 + s * dx).floor() as isize);
                    thin(y, x, &mut plane);
                    if wide {
                        // The second pixel across the line: beside it if it runs mostly up and down.
                        if dx.abs() < dy.abs() {
                            thin(y, x + 1, &mut plane);
                        } else {
                            thin(y + 1, x, &mut plane);
                        }
                    }
                }
            }
        }
        if task != Task::Lines {
            for _ in 0..count(if task == Task::Dots { 10.0 } else { 5.0 }) + rng.below(3) {
                let side = 2 + rng.below(2);
                let (y0, x0) = (rng.below(size - side) as isize, rng.below(size - side) as isize);
                for y in y0..y0 + side as isize {
                    for x in x0..x0 + side as isize {
                        thin(y, x, &mut plane);
                    }
                }
            }
        }
    }
    let images = Array4::from_shape_fn((n, size, size, 3), |(b, y, x, _)| {
        let base = if labels[[b, y, x]] == BACKGROUND { -0.5 } else { 0.5 };
        base + 0.2 * rng.normal() as f32
    });
    (images, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_draws_blobs_and_thin_structures_reproducibly() {
        for t in Task::ALL {
            let (images, labels) = task(t, 3, 64, &mut Rng::new(5));
            assert_eq!(images.dim(), (3, 64, 64, 3));
            for b in 0..3 {
                let plane = labels.index_axis(ndarray::Axis(0), b);
                let blob = plane.iter().filter(|&&l| l == BLOB).count();
                let thin = plane.iter().filter(|&&l| l == THIN).count();
                assert!(blob > 100, "{t}: {blob} blob pixels");
                assert!(thin > 20 && thin < blob * 2, "{t}: {thin} thin pixels");
            }
            let (again, same) = task(t, 3, 64, &mut Rng::new(5));
            assert_eq!((again, same), (images, labels));
            assert_eq!(t.name().parse::<Task>().unwrap(), t);
        }
        assert!("blobs".parse::<Task>().is_err());
    }

    #[test]
    fn thin_structures_are_at_most_two_pixels_across_for_lines() {
        // A line task's thin pixels: no 3x3 square of them (lines are one or two wide).
        let (_, labels) = task(Task::Lines, 4, 64, &mut Rng::new(9));
        for b in 0..4 {
            for y in 0..62 {
                for x in 0..62 {
                    let full = (0..3).all(|i| (0..3).all(|j| labels[[b, y + i, x + j]] == THIN));
                    assert!(!full, "a 3x3 block of line pixels at {b} {y} {x}");
                }
            }
        }
    }
}

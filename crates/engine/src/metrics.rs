//! Semantic-segmentation scores as reported by SegNet (Badrinarayanan, Kendall and Cipolla,
//! TPAMI 2017): global accuracy G, class-average accuracy C, mean intersection over union
//! mIoU, and the boundary F1 score BF.
//!
//! A label map is an `[H, W]` array of class indices `0..n_classes`. An optional void label
//! marks pixels without ground truth: wherever the ground truth is void the pixel is ignored by
//! every score, BF included. The void label is never a class, even when it is below
//! `n_classes`: a pixel whose ground truth is class `c` and whose prediction is the void label
//! is a miss for `c` (it lowers G, C and the IoU of `c`) and a false positive of no class. Any
//! other label `>= n_classes`, in either map, is [`EngineError::Label`]; maps of different
//! shapes are [`EngineError::Shape`].
//!
//! Every score is a fraction in `[0, 1]`, not a percentage.

use crate::error::{check_shape, EngineError, Result};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// BF tolerance as a fraction of the image diagonal (0.75%, as in SegNet).
pub const BF_TOLERANCE_FRACTION: f64 = 0.0075;

/// The most classes a `u8` label map can name.
pub const MAX_CLASSES: usize = 256;

/// Pooled pixel counts: `counts[[t, p]]` is the number of counted pixels whose ground truth is
/// class `t` and whose prediction is class `p`. Pixels predicted as the void label are kept
/// apart, per ground-truth class, in [`ConfusionMatrix::void_predictions`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix {
    void: Option<u8>,
    counts: Array2<u64>,
    void_predictions: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix. `n_classes` must be in `1..=256`.
    pub fn new(n_classes: usize, void: Option<u8>) -> Result<Self> {
        check_classes(n_classes)?;
        Ok(Self { void, counts: Array2::zeros((n_classes, n_classes)), void_predictions: vec![0; n_classes] })
    }

    pub fn n_classes(&self) -> usize {
        self.void_predictions.len()
    }

    pub fn void(&self) -> Option<u8> {
        self.void
    }

    /// Counts `[n_classes, n_classes]`, rows = ground truth, columns = prediction.
    pub fn counts(&self) -> ArrayView2<'_, u64> {
        self.counts.view()
    }

    /// Per ground-truth class, the counted pixels predicted as the void label.
    pub fn void_predictions(&self) -> &[u64] {
        &self.void_predictions
    }

    /// Counted pixels: those whose ground truth is not void.
    pub fn pixels(&self) -> u64 {
        self.counts.sum() + self.void_predictions.iter().sum::<u64>()
    }

    /// Accumulates one image. On error nothing is counted.
    pub fn add(&mut self, pred: ArrayView2<u8>, truth: ArrayView2<u8>) -> Result<()> {
        check_maps(pred, truth, self.n_classes(), self.void)?;
        self.add_checked(pred, truth);
        Ok(())
    }

    fn add_checked(&mut self, pred: ArrayView2<u8>, truth: ArrayView2<u8>) {
        let void = self.void;
        for (&p, &t) in pred.iter().zip(truth.iter()) {
            let Some(t) = class_of(t, void) else { continue };
            match class_of(p, void) {
                Some(p) => self.counts[[t, p]] += 1,
                None => self.void_predictions[t] += 1,
            }
        }
    }

    /// Adds the counts of `other`, which must have the same number of classes and void label.
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<()> {
        let n = self.n_classes();
        check_shape("confusion matrix to merge", &[n, n], other.counts.shape())?;
        if self.void != other.void {
            return Err(EngineError::Config(format!("cannot merge confusion matrices with void labels {:?} and {:?}", self.void, other.void)));
        }
        self.counts += &other.counts;
        for (a, b) in self.void_predictions.iter_mut().zip(&other.void_predictions) {
            *a += b;
        }
        Ok(())
    }

    /// Counted pixels whose ground truth is `class` (the row sum plus its void predictions).
    fn truth_total(&self, class: usize) -> u64 {
        self.counts.row(class).sum() + self.void_predictions[class]
    }

    /// G: correctly labelled pixels over counted pixels; `None` with no counted pixel.
    pub fn global_accuracy(&self) -> Option<f64> {
        let total = self.pixels();
        (total > 0).then(|| self.counts.diag().sum() as f64 / total as f64)
    }

    /// Per-class accuracy (recall) `TP / (TP + FN)`; `None` for a class absent from the ground
    /// truth.
    pub fn class_accuracy(&self) -> Vec<Option<f64>> {
        (0..self.n_classes())
            .map(|c| {
                let total = self.truth_total(c);
                (total > 0).then(|| self.counts[[c, c]] as f64 / total as f64)
            })
            .collect()
    }

    /// C: the mean of [`ConfusionMatrix::class_accuracy`] over the classes present in the
    /// ground truth; `None` when there is none.
    pub fn mean_class_accuracy(&self) -> Option<f64> {
        mean_of_some(&self.class_accuracy())
    }

    /// Per-class IoU `TP / (TP + FP + FN)` from the pooled counts; `None` for a class that
    /// occurs in neither the ground truth nor the prediction.
    pub fn iou(&self) -> Vec<Option<f64>> {
        (0..self.n_classes())
            .map(|c| {
                let tp = self.counts[[c, c]];
                let union = self.truth_total(c) + self.counts.column(c).sum() - tp;
                (union > 0).then(|| tp as f64 / union as f64)
            })
            .collect()
    }

    /// mIoU: the mean of [`ConfusionMatrix::iou`] over the classes that occur; `None` when
    /// none does.
    pub fn mean_iou(&self) -> Option<f64> {
        mean_of_some(&self.iou())
    }
}

/// The BF tolerance in pixels for an image: 0.75% of its diagonal (4.5 px at 360x480).
pub fn default_tolerance(height: usize, width: usize) -> f64 {
    BF_TOLERANCE_FRACTION * (height as f64).hypot(width as f64)
}

/// Boundary F1 per class for one image with tolerance `theta` pixels (Euclidean, inclusive).
///
/// The boundary of class `c` in a map is the set of pixels labelled `c` with at least one
/// 4-neighbour inside the image labelled otherwise (a ground-truth void neighbour counts as
/// otherwise; the image border does not). Pixels whose ground truth is void are then removed
/// from both boundaries. Precision is the fraction of predicted-boundary pixels within
/// `theta` of a ground-truth boundary pixel, recall the converse, and F1 = 2PR / (P + R)
/// (0 when P + R = 0). A class with exactly one empty boundary scores 0; a class with both
/// empty (absent, or filling the whole image) is `None`. `theta` must be a non-negative
/// number ([`EngineError::Config`] otherwise); `+inf` matches everything.
pub fn boundary_f1_per_class(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>, theta: f64) -> Result<Vec<Option<f64>>> {
    check_classes(n_classes)?;
    check_theta(theta)?;
    check_maps(pred, truth, n_classes, void)?;
    Ok(boundary_f1_checked(pred, truth, n_classes, void, theta))
}

/// An image's BF with tolerance `theta`: the mean of [`boundary_f1_per_class`] over its scored
/// classes; `None` when no class is scored.
pub fn boundary_f1(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>, theta: f64) -> Result<Option<f64>> {
    Ok(mean_of_some(&boundary_f1_per_class(pred, truth, n_classes, void, theta)?))
}

/// [`boundary_f1`] with the SegNet tolerance, [`default_tolerance`] of the image size.
pub fn boundary_f1_default(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>) -> Result<Option<f64>> {
    let (h, w) = pred.dim();
    boundary_f1(pred, truth, n_classes, void, default_tolerance(h, w))
}

/// Scores of a set of images, every one a fraction in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Global accuracy G over all counted pixels (0 when `pixels` is 0).
    pub g: f64,
    /// Class-average accuracy C (0 when `pixels` is 0).
    pub c: f64,
    /// Mean IoU from the pooled confusion matrix (0 when `pixels` is 0).
    pub miou: f64,
    /// Mean over images of each image's BF at the default tolerance; images with no scored
    /// class are left out, and `None` means no image was scored.
    pub bf: Option<f64>,
    /// Per-class IoU from the pooled matrix; `None` for a class that never occurs.
    pub iou: Vec<Option<f64>>,
    /// Counted pixels (ground truth not void).
    pub pixels: u64,
    /// Images added.
    pub images: usize,
}

/// Accumulates images one by one into the pooled confusion matrix and the BF mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    confusion: ConfusionMatrix,
    bf_sum: f64,
    bf_images: usize,
    images: usize,
}

impl Evaluation {
    /// An empty evaluation. `n_classes` must be in `1..=256`.
    pub fn new(n_classes: usize, void: Option<u8>) -> Result<Self> {
        Ok(Self { confusion: ConfusionMatrix::new(n_classes, void)?, bf_sum: 0.0, bf_images: 0, images: 0 })
    }

    /// Scores one image (its own size sets the BF tolerance). On error nothing is counted.
    pub fn add_image(&mut self, pred: ArrayView2<u8>, truth: ArrayView2<u8>) -> Result<()> {
        let (n, void) = (self.confusion.n_classes(), self.confusion.void);
        check_maps(pred, truth, n, void)?;
        self.confusion.add_checked(pred, truth);
        let (h, w) = pred.dim();
        if let Some(bf) = mean_of_some(&boundary_f1_checked(pred, truth, n, void, default_tolerance(h, w))) {
            self.bf_sum += bf;
            self.bf_images += 1;
        }
        self.images += 1;
        Ok(())
    }

    pub fn confusion(&self) -> &ConfusionMatrix {
        &self.confusion
    }

    pub fn scores(&self) -> Scores {
        let m = &self.confusion;
        Scores {
            g: m.global_accuracy().unwrap_or(0.0),
            c: m.mean_class_accuracy().unwrap_or(0.0),
            miou: m.mean_iou().unwrap_or(0.0),
            bf: (self.bf_images > 0).then(|| self.bf_sum / self.bf_images as f64),
            iou: m.iou(),
            pixels: m.pixels(),
            images: self.images,
        }
    }
}

/// The scores of a single image.
pub fn score_image(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>) -> Result<Scores> {
    let mut evaluation = Evaluation::new(n_classes, void)?;
    evaluation.add_image(pred, truth)?;
    Ok(evaluation.scores())
}

fn check_classes(n_classes: usize) -> Result<()> {
    if (1..=MAX_CLASSES).contains(&n_classes) {
        Ok(())
    } else {
        Err(EngineError::Config(format!("metrics need 1..={MAX_CLASSES} classes, got {n_classes}")))
    }
}

fn check_theta(theta: f64) -> Result<()> {
    if theta >= 0.0 {
        Ok(())
    } else {
        Err(EngineError::Config(format!("the boundary tolerance must be a non-negative number of pixels, got {theta}")))
    }
}

fn check_maps(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>) -> Result<()> {
    check_shape("ground-truth label map (must match the prediction)", pred.shape(), truth.shape())?;
    for &label in pred.iter().chain(truth.iter()) {
        if label as usize >= n_classes && Some(label) != void {
            return Err(EngineError::Label { label, classes: n_classes });
        }
    }
    Ok(())
}

/// The class a checked label names: `None` for the void label.
fn class_of(label: u8, void: Option<u8>) -> Option<usize> {
    (Some(label) != void).then_some(label as usize)
}

fn mean_of_some(values: &[Option<f64>]) -> Option<f64> {
    let (sum, count) = values.iter().flatten().fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

fn boundary_f1_checked(pred: ArrayView2<u8>, truth: ArrayView2<u8>, n_classes: usize, void: Option<u8>, theta: f64) -> Vec<Option<f64>> {
    let (h, w) = pred.dim();
    let (pred, truth) = (pred.as_standard_layout(), truth.as_standard_layout());
    let pred = pred.as_slice().expect("standard layout");
    let truth = truth.as_slice().expect("standard layout");
    let on_boundary = |map: &[u8], y: usize, x: usize, i: usize| {
        let v = map[i];
        (y > 0 && map[i - w] != v) || (y + 1 < h && map[i + w] != v) || (x > 0 && map[i - 1] != v) || (x + 1 < w && map[i + 1] != v)
    };
    let mut pred_sets = vec![Vec::new(); n_classes];
    let mut truth_sets = vec![Vec::new(); n_classes];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let Some(t) = class_of(truth[i], void) else { continue };
            if on_boundary(truth, y, x, i) {
                truth_sets[t].push(i);
            }
            if let Some(p) = class_of(pred[i], void) {
                if on_boundary(pred, y, x, i) {
                    pred_sets[p].push(i);
                }
            }
        }
    }
    let mut finder = NearFinder::new(w, h, theta);
    pred_sets
        .iter()
        .zip(&truth_sets)
        .map(|(p, t)| match (p.is_empty(), t.is_empty()) {
            (true, true) => None,
            (true, false) | (false, true) => Some(0.0),
            (false, false) => {
                let precision = finder.count_near(p, t) as f64 / p.len() as f64;
                let recall = finder.count_near(t, p) as f64 / t.len() as f64;
                let sum = precision + recall;
                Some(if sum > 0.0 { 2.0 * precision * recall / sum } else { 0.0 })
            }
        })
        .collect()
}

/// Counts query pixels within `theta` of a target set. The targets, flat indices in ascending
/// order, fall into one sorted run per row; a query binary-searches its column in the runs of
/// the `2 * floor(theta) + 1` rows around it, so the cost grows with the number of boundary
/// pixels, not with the image area or the number of classes.
struct NearFinder {
    width: usize,
    radius: usize,
    theta_sq: f64,
    row_starts: Vec<usize>,
}

impl NearFinder {
    fn new(width: usize, height: usize, theta: f64) -> Self {
        let radius = theta.min((width + height) as f64).floor() as usize;
        Self { width, radius, theta_sq: theta * theta, row_starts: Vec::new() }
    }

    /// How many of `queries` (flat indices) lie within `theta` of some pixel of `targets`
    /// (flat indices, ascending, not empty).
    fn count_near(&mut self, queries: &[usize], targets: &[usize]) -> usize {
        let w = self.width;
        let (y0, y1) = (targets[0] / w, targets[targets.len() - 1] / w);
        self.row_starts.clear();
        let mut k = 0;
        for y in y0..=y1 + 1 {
            while k < targets.len() && targets[k] < y * w {
                k += 1;
            }
            self.row_starts.push(k);
        }
        let r = self.radius;
        queries
            .iter()
            .filter(|&&i| {
                let (y, x) = (i / w, i % w);
                let (lo, hi) = (y.saturating_sub(r).max(y0), (y + r).min(y1));
                (lo..=hi).any(|yy| {
                    let run = &targets[self.row_starts[yy - y0]..self.row_starts[yy - y0 + 1]];
                    let at = yy * w + x;
                    let pos = run.partition_point(|&t| t < at);
                    let right = run.get(pos).map(|&t| t - at);
                    let left = pos.checked_sub(1).map(|p| at - run[p]);
                    let Some(dx) = right.into_iter().chain(left).min() else { return false };
                    let dy = yy.abs_diff(y);
                    dx <= r && ((dx * dx + dy * dy) as f64) <= self.theta_sq
                })
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr2, Array2};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// A `[h, w]` map of class 0 with the rectangle rows `ys`, columns `xs` set to class 1.
    fn square(h: usize, w: usize, ys: std::ops::Range<usize>, xs: std::ops::Range<usize>) -> Array2<u8> {
        Array2::from_shape_fn((h, w), |(y, x)| (ys.contains(&y) && xs.contains(&x)) as u8)
    }

    #[test]
    fn confusion_matrix_g_c_miou_by_hand() {
        let truth = arr2(&[[0u8, 0, 1], [1, 1, 2], [2, 2, 2]]);
        let pred = arr2(&[[0u8, 1, 1], [1, 2, 2], [2, 2, 0]]);
        let mut m = ConfusionMatrix::new(4, None).unwrap();
        m.add(pred.view(), truth.view()).unwrap();
        let mut expected = Array2::<u64>::zeros((4, 4));
        for (t, row) in [[1, 1, 0], [0, 2, 1], [1, 0, 3]].iter().enumerate() {
            for (p, &v) in row.iter().enumerate() {
                expected[[t, p]] = v;
            }
        }
        assert_eq!(m.counts(), expected.view());
        assert_eq!(m.pixels(), 9);
        assert!(close(m.global_accuracy().unwrap(), 6.0 / 9.0));
        assert!(close(m.mean_class_accuracy().unwrap(), (1.0 / 2.0 + 2.0 / 3.0 + 3.0 / 4.0) / 3.0));
        let iou = m.iou();
        assert!(close(iou[0].unwrap(), 1.0 / 3.0));
        assert!(close(iou[1].unwrap(), 2.0 / 4.0));
        assert!(close(iou[2].unwrap(), 3.0 / 5.0));
        assert_eq!(iou[3], None);
        assert!(close(m.mean_iou().unwrap(), (1.0 / 3.0 + 1.0 / 2.0 + 3.0 / 5.0) / 3.0));
    }

    #[test]
    fn miou_is_pooled_over_the_set_not_averaged_over_images() {
        let mut e = Evaluation::new(2, None).unwrap();
        e.add_image(arr2(&[[0u8, 1]]).view(), arr2(&[[0u8, 0]]).view()).unwrap();
        e.add_image(arr2(&[[1u8, 1]]).view(), arr2(&[[1u8, 1]]).view()).unwrap();
        let s = e.scores();
        assert!(close(s.iou[0].unwrap(), 1.0 / 2.0));
        assert!(close(s.iou[1].unwrap(), 2.0 / 3.0));
        assert!(close(s.miou, 7.0 / 12.0));
        assert!(close(s.g, 3.0 / 4.0));
        assert!(close(s.c, (1.0 / 2.0 + 1.0) / 2.0));
        assert_eq!((s.pixels, s.images), (4, 2));
    }

    #[test]
    fn merge_equals_adding_both_images() {
        let (a_pred, a_truth) = (arr2(&[[0u8, 1], [2, 2]]), arr2(&[[0u8, 0], [2, 1]]));
        let (b_pred, b_truth) = (arr2(&[[1u8, 1], [0, 2]]), arr2(&[[1u8, 2], [0, 2]]));
        let mut both = ConfusionMatrix::new(3, None).unwrap();
        both.add(a_pred.view(), a_truth.view()).unwrap();
        both.add(b_pred.view(), b_truth.view()).unwrap();
        let mut a = ConfusionMatrix::new(3, None).unwrap();
        a.add(a_pred.view(), a_truth.view()).unwrap();
        let mut b = ConfusionMatrix::new(3, None).unwrap();
        b.add(b_pred.view(), b_truth.view()).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a, both);
        let other = ConfusionMatrix::new(4, None).unwrap();
        assert!(matches!(a.merge(&other), Err(EngineError::Shape { .. })));
        let other = ConfusionMatrix::new(3, Some(3)).unwrap();
        assert!(matches!(a.merge(&other), Err(EngineError::Config(_))));
    }

    #[test]
    fn void_pixels_are_ignored_and_void_predictions_are_misses() {
        let truth = arr2(&[[0u8, 255, 1, 1]]);
        let pred = arr2(&[[0u8, 1, 1, 255]]);
        let s = score_image(pred.view(), truth.view(), 2, Some(255)).unwrap();
        assert_eq!(s.pixels, 3);
        assert!(close(s.g, 2.0 / 3.0));
        assert!(close(s.c, (1.0 + 1.0 / 2.0) / 2.0));
        assert_eq!(s.iou, vec![Some(1.0), Some(1.0 / 2.0)]);
        assert!(close(s.miou, 3.0 / 4.0));

        let all_void = arr2(&[[255u8, 255]]);
        let s = score_image(arr2(&[[0u8, 1]]).view(), all_void.view(), 2, Some(255)).unwrap();
        assert_eq!((s.pixels, s.g, s.bf), (0, 0.0, None));
        assert_eq!(s.iou, vec![None, None]);
    }

    #[test]
    fn void_label_below_n_classes_is_not_a_class() {
        let truth = arr2(&[[0u8, 2, 1]]);
        let pred = arr2(&[[2u8, 0, 1]]);
        let mut m = ConfusionMatrix::new(3, Some(2)).unwrap();
        m.add(pred.view(), truth.view()).unwrap();
        assert_eq!(m.void_predictions(), &[1, 0, 0]);
        assert_eq!(m.iou(), vec![Some(0.0), Some(1.0), None]);
        assert!(close(m.global_accuracy().unwrap(), 1.0 / 2.0));
    }

    #[test]
    fn out_of_range_label_or_shape_mismatch_is_an_error() {
        let ok = arr2(&[[0u8, 1], [2, 2]]);
        let bad = arr2(&[[0u8, 1], [5, 2]]);
        let mut m = ConfusionMatrix::new(3, Some(255)).unwrap();
        assert_eq!(m.add(bad.view(), ok.view()), Err(EngineError::Label { label: 5, classes: 3 }));
        assert_eq!(m.add(ok.view(), bad.view()), Err(EngineError::Label { label: 5, classes: 3 }));
        assert_eq!(m.pixels(), 0);
        let mut e = Evaluation::new(3, None).unwrap();
        let void_but_undeclared = arr2(&[[255u8, 1], [2, 2]]);
        assert_eq!(e.add_image(ok.view(), void_but_undeclared.view()), Err(EngineError::Label { label: 255, classes: 3 }));
        let wide = arr2(&[[0u8, 1, 2]]);
        assert!(matches!(e.add_image(ok.view(), wide.view()), Err(EngineError::Shape { .. })));
        assert!(matches!(boundary_f1_default(ok.view(), wide.view(), 3, None), Err(EngineError::Shape { .. })));
        assert!(matches!(boundary_f1(bad.view(), ok.view(), 3, None, 1.0), Err(EngineError::Label { label: 5, .. })));
        assert_eq!(e.scores().images, 0);
        assert!(matches!(Evaluation::new(0, None), Err(EngineError::Config(_))));
        assert!(matches!(ConfusionMatrix::new(257, None), Err(EngineError::Config(_))));
        assert!(matches!(boundary_f1(ok.view(), ok.view(), 3, None, f64::NAN), Err(EngineError::Config(_))));
        assert!(matches!(boundary_f1(ok.view(), ok.view(), 3, None, -1.0), Err(EngineError::Config(_))));
    }

    #[test]
    fn default_tolerance_is_0_75_percent_of_the_diagonal() {
        assert!(close(default_tolerance(360, 480), 4.5));
    }

    #[test]
    fn bf_square_shifted_by_one_pixel_is_within_tolerance() {
        let truth = square(10, 10, 3..7, 3..7);
        let pred = square(10, 10, 3..7, 4..8);
        assert_eq!(boundary_f1(pred.view(), truth.view(), 2, None, 1.0).unwrap(), Some(1.0));
        let truth = square(360, 480, 100..200, 150..300);
        let pred = square(360, 480, 101..201, 151..301);
        assert_eq!(boundary_f1_default(pred.view(), truth.view(), 2, None).unwrap(), Some(1.0));
        let pred = square(360, 480, 100..200, 156..306);
        assert!(boundary_f1_default(pred.view(), truth.view(), 2, None).unwrap().unwrap() < 1.0);
    }

    #[test]
    fn bf_square_shifted_beyond_tolerance_by_hand() {
        // Class 1: 8 of 12 perimeter pixels match each way, F1 = 2/3.
        // Class 0: 8 of 16 ring pixels match each way, F1 = 1/2.
        let truth = square(10, 10, 3..7, 3..7);
        let pred = square(10, 10, 3..7, 5..9);
        let per_class = boundary_f1_per_class(pred.view(), truth.view(), 2, None, 1.0).unwrap();
        assert!(close(per_class[0].unwrap(), 1.0 / 2.0));
        assert!(close(per_class[1].unwrap(), 2.0 / 3.0));
        assert!(close(boundary_f1(pred.view(), truth.view(), 2, None, 1.0).unwrap().unwrap(), 7.0 / 12.0));
    }

    #[test]
    fn bf_bent_edge_with_diagonal_tolerance_by_hand() {
        // theta = 1.5 admits diagonal neighbours (sqrt 2) but not distance 2.
        // Class 1: P = 3/6, R = 4/4, F1 = 2/3. Class 0: P = 3/6, R = 3/4, F1 = 3/5.
        let truth = Array2::from_shape_fn((4, 10), |(_, x)| (x <= 4) as u8);
        let pred = Array2::from_shape_fn((4, 10), |(y, x)| (x <= if y < 2 { 4 } else { 7 }) as u8);
        let per_class = boundary_f1_per_class(pred.view(), truth.view(), 2, None, 1.5).unwrap();
        assert!(close(per_class[0].unwrap(), 3.0 / 5.0));
        assert!(close(per_class[1].unwrap(), 2.0 / 3.0));
        assert!(close(boundary_f1(pred.view(), truth.view(), 2, None, 1.5).unwrap().unwrap(), 19.0 / 30.0));
        let per_class = boundary_f1_per_class(pred.view(), truth.view(), 2, None, 1.4).unwrap();
        assert!(per_class[1].unwrap() < 2.0 / 3.0);
    }

    #[test]
    fn bf_of_identical_maps_is_one() {
        let truth = Array2::from_shape_fn((12, 17), |(y, x)| ((y * 7 + x * 3) / 11 % 4) as u8);
        assert_eq!(boundary_f1(truth.view(), truth.view(), 4, None, 0.0).unwrap(), Some(1.0));
        assert_eq!(boundary_f1_default(truth.view(), truth.view(), 4, None).unwrap(), Some(1.0));
        let s = score_image(truth.view(), truth.view(), 4, None).unwrap();
        assert_eq!((s.g, s.c, s.miou, s.bf), (1.0, 1.0, 1.0, Some(1.0)));
    }

    #[test]
    fn bf_class_predicted_but_absent_from_truth_scores_zero() {
        let truth = square(8, 8, 2..6, 2..6);
        let mut pred = truth.clone();
        pred[[0, 0]] = 2;
        // Class 0 also gains two unmatched boundary pixels next to the corner: P = 16/18, R = 1.
        let per_class = boundary_f1_per_class(pred.view(), truth.view(), 3, None, 1.0).unwrap();
        assert!(close(per_class[0].unwrap(), 16.0 / 17.0));
        assert_eq!(per_class[1..], [Some(1.0), Some(0.0)]);
        let bf = boundary_f1(pred.view(), truth.view(), 3, None, 1.0).unwrap().unwrap();
        assert!(close(bf, (16.0 / 17.0 + 1.0 + 0.0) / 3.0));
    }

    #[test]
    fn bf_skips_classes_without_boundaries_and_images_without_scored_classes() {
        let uniform = Array2::<u8>::zeros((5, 5));
        assert_eq!(boundary_f1_per_class(uniform.view(), uniform.view(), 2, None, 1.0).unwrap(), vec![None, None]);
        let mut e = Evaluation::new(2, None).unwrap();
        e.add_image(uniform.view(), uniform.view()).unwrap();
        assert_eq!(e.scores().bf, None);
        let truth = square(8, 8, 2..6, 2..6);
        let pred = square(8, 8, 2..6, 2..7);
        e.add_image(pred.view(), truth.view()).unwrap();
        let alone = boundary_f1_default(pred.view(), truth.view(), 2, None).unwrap().unwrap();
        assert!(alone < 1.0);
        assert!(close(e.scores().bf.unwrap(), alone));
    }

    #[test]
    fn bf_ignores_void_ground_truth() {
        // Where the ground truth is void the prediction's disagreement leaves no trace.
        let truth = arr2(&[[0u8, 0, 9, 9, 1, 1], [0, 0, 9, 9, 1, 1], [0, 0, 9, 9, 1, 1]]);
        let pred = arr2(&[[0u8, 0, 1, 0, 1, 1], [0, 0, 1, 1, 1, 1], [0, 0, 1, 0, 1, 1]]);
        assert_eq!(boundary_f1(pred.view(), truth.view(), 2, Some(9), 1.0).unwrap(), Some(1.0));
        let wrong = arr2(&[[0u8, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]]);
        assert!(boundary_f1(wrong.view(), truth.view(), 2, Some(9), 1.0).unwrap().unwrap() < 1.0);
    }

    #[test]
    fn scores_round_trip_through_json() {
        let truth = square(6, 6, 1..4, 1..4);
        let pred = square(6, 6, 1..4, 2..5);
        let s = score_image(pred.view(), truth.view(), 3, None).unwrap();
        let back: Scores = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    /// The definition spelled out: every pair of boundary pixels compared.
    fn brute_force_bf(pred: &Array2<u8>, truth: &Array2<u8>, n: usize, void: Option<u8>, theta: f64) -> Vec<Option<f64>> {
        let (h, w) = pred.dim();
        let boundary = |map: &Array2<u8>, c: u8| -> Vec<(i64, i64)> {
            let mut out = Vec::new();
            for y in 0..h {
                for x in 0..w {
                    let outside = |yy: usize, xx: usize| map[[yy, xx]] != c;
                    let edge =
                        (y > 0 && outside(y - 1, x)) || (y + 1 < h && outside(y + 1, x)) || (x > 0 && outside(y, x - 1)) || (x + 1 < w && outside(y, x + 1));
                    if map[[y, x]] == c && edge && Some(truth[[y, x]]) != void {
                        out.push((y as i64, x as i64));
                    }
                }
            }
            out
        };
        let near = |a: &[(i64, i64)], b: &[(i64, i64)]| {
            a.iter().filter(|p| b.iter().any(|q| (((p.0 - q.0).pow(2) + (p.1 - q.1).pow(2)) as f64).sqrt() <= theta)).count()
        };
        (0..n as u8)
            .map(|c| {
                if Some(c) == void {
                    return None;
                }
                let (pb, tb) = (boundary(pred, c), boundary(truth, c));
                match (pb.is_empty(), tb.is_empty()) {
                    (true, true) => None,
                    (true, false) | (false, true) => Some(0.0),
                    _ => {
                        let p = near(&pb, &tb) as f64 / pb.len() as f64;
                        let r = near(&tb, &pb) as f64 / tb.len() as f64;
                        Some(if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 })
                    }
                }
            })
            .collect()
    }

    #[test]
    fn bf_matches_brute_force_on_random_maps() {
        let mut state = 0x5eed_u64;
        let mut next = move |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        for round in 0..60 {
            let (h, w) = (1 + next(23) as usize, 1 + next(29) as usize);
            let n = 1 + next(4) as usize;
            let void = (round % 3 != 0).then_some(if round % 2 == 0 { n as u8 } else { 0 });
            let labels = (n + void.map_or(0, |v| (v as usize >= n) as usize)) as u64;
            let blocky = |next: &mut dyn FnMut(u64) -> u64| {
                let (sy, sx) = (1 + next(5) as usize, 1 + next(5) as usize);
                let tiles: Vec<u8> = (0..(h / sy + 1) * (w / sx + 1)).map(|_| next(labels) as u8).collect();
                Array2::from_shape_fn((h, w), |(y, x)| tiles[(y / sy) * (w / sx + 1) + x / sx])
            };
            let truth = blocky(&mut next);
            let pred = blocky(&mut next);
            let theta = [0.0, 1.0, 1.5, 2.0, 2.9, 4.5, 7.3][round % 7];
            let fast = boundary_f1_per_class(pred.view(), truth.view(), n, void, theta).unwrap();
            let slow = brute_force_bf(&pred, &truth, n, void, theta);
            assert_eq!(fast.len(), slow.len());
            for (f, s) in fast.iter().zip(&slow) {
                assert!(f.is_some() == s.is_some() && close(f.unwrap_or(0.0), s.unwrap_or(0.0)), "round {round}: {fast:?} vs {slow:?}");
            }
        }
    }
}

//! Softmax and the class-weighted softmax cross-entropy with an ignore label
//! (PyTorch `F.cross_entropy(logits, labels, weight=w, ignore_index=i)`, mean reduction:
//! `sum(w[y] * -log p[y]) / sum(w[y])` over the pixels that are not ignored).

use crate::error::{check_shape, EngineError, Result};
use crate::Scalar;
use ndarray::{Array3, Array4, ArrayView3, ArrayView4, ArrayViewMut4};

/// Softmax over the channel axis of `[N, H, W, K]` scores, in place.
///
/// # Shapes
/// - scores: `[N, H, W, K]`, replaced by probabilities
pub fn softmax_inplace<T: Scalar>(mut scores: ArrayViewMut4<T>) {
    let k = scores.dim().3;
    for px in scores.as_slice_mut().expect("standard layout").chunks_exact_mut(k.max(1)) {
        let max = px.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
        let mut sum = T::zero();
        for v in px.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        for v in px.iter_mut() {
            *v /= sum;
        }
    }
}

/// Index of the largest score per pixel: `[N, H, W, K]` -> `[N, H, W]` (first on ties).
///
/// # Shapes
/// - scores: `[N, H, W, K]`
/// - returns: `[N, H, W]`
pub fn argmax<T: Scalar>(scores: ArrayView4<T>) -> Array3<u8> {
    let (n, h, w, k) = scores.dim();
    let scores = scores.as_standard_layout();
    let classes = scores.as_slice().expect("standard layout").chunks_exact(k.max(1)).map(|px| {
        let mut best = 0;
        for (i, &v) in px.iter().enumerate() {
            if v > px[best] {
                best = i;
            }
        }
        best as u8
    });
    Array3::from_shape_vec((n, h, w), classes.collect()).expect("one class per pixel")
}

/// `-log softmax(scores)[class]` as `logsumexp(scores) - scores[class]`, in f64: exact
/// where the probability underflows f32.
fn negative_log_softmax<T: Scalar>(scores: &[T], class: usize) -> f64 {
    let f = |v: T| v.to_f64().unwrap_or(0.0);
    let max = scores.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(f(b)));
    let sum: f64 = scores.iter().map(|&v| (f(v) - max).exp()).sum();
    max + sum.ln() - f(scores[class])
}

/// Class weights and the label to ignore.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossEntropy {
    /// One weight per class (`K` entries).
    pub class_weights: Vec<f64>,
    /// Pixels with this label count neither in the loss nor in its normaliser.
    pub ignore_label: Option<u8>,
}

impl CrossEntropy {
    pub fn unweighted(classes: usize) -> Self {
        Self { class_weights: vec![1.0; classes], ignore_label: None }
    }

    /// The loss and its gradient with respect to `logits` `[N, H, W, K]`, for `labels`
    /// `[N, H, W]`. With no counted pixel the loss and gradient are zero.
    ///
    /// # Shapes
    /// - logits: `[N, H, W, K]`
    /// - labels: `[N, H, W]`
    /// - returns: the loss (a scalar) and its gradient `[N, H, W, K]`
    pub fn forward_backward<T: Scalar>(&self, logits: ArrayView4<T>, labels: ArrayView3<u8>) -> Result<(T, Array4<T>)> {
        let (n, h, w, k) = logits.dim();
        check_shape("labels", &[n, h, w], labels.shape())?;
        check_shape("class weights", &[k], &[self.class_weights.len()])?;
        let mut grad = logits.as_standard_layout().into_owned();
        softmax_inplace(grad.view_mut());
        let mut total = 0.0f64;
        let mut weight_sum = 0.0f64;
        let labels = labels.as_standard_layout();
        let logits = logits.as_standard_layout();
        let ls = logits.as_slice().expect("standard layout");
        let gs = grad.as_slice_mut().expect("fresh array");
        for ((px, scores), &label) in gs.chunks_exact_mut(k.max(1)).zip(ls.chunks_exact(k.max(1))).zip(labels.iter()) {
            if Some(label) == self.ignore_label {
                px.fill(T::zero());
                continue;
            }
            let class = label as usize;
            if class >= k {
                return Err(EngineError::Label { label, classes: k });
            }
            let wt = self.class_weights[class];
            total += wt * negative_log_softmax(scores, class);
            weight_sum += wt;
            px[class] -= T::one();
            let wt = T::of(wt);
            px.iter_mut().for_each(|v| *v *= wt);
        }
        if weight_sum <= 0.0 {
            grad.fill(T::zero());
            return Ok((T::zero(), grad));
        }
        grad.mapv_inplace(|v| v / T::of(weight_sum));
        Ok((T::of(total / weight_sum), grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{input_error, random};
    use crate::rng::Rng;

    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = Rng::new(10);
        let x = random(ndarray::Ix4(2, 3, 3, 4), &mut rng);
        let labels = Array3::from_shape_fn((2, 3, 3), |(b, i, j)| ((b + 2 * i + j) % 5) as u8);
        let ce = CrossEntropy { class_weights: vec![0.5, 1.0, 2.0, 3.0], ignore_label: Some(4) };
        let (_, grad) = ce.forward_backward(x.view(), labels.view()).unwrap();
        assert!(input_error(&x, &grad, |x| ce.forward_backward(x.view(), labels.view()).unwrap().0) < 1e-6);
    }

    #[test]
    fn uniform_scores_cost_log_k_and_ignored_pixels_cost_nothing() {
        let x = Array4::<f64>::zeros((1, 1, 2, 4));
        let labels = Array3::from_shape_vec((1, 1, 2), vec![1, 9]).unwrap();
        let ce = CrossEntropy { class_weights: vec![1.0; 4], ignore_label: Some(9) };
        let (loss, grad) = ce.forward_backward(x.view(), labels.view()).unwrap();
        assert!((loss - 4f64.ln()).abs() < 1e-12);
        assert!(grad.slice(ndarray::s![0, 0, 1, ..]).iter().all(|&g| g == 0.0));
    }

    #[test]
    fn loss_stays_exact_when_the_probability_underflows() {
        let x = Array4::from_shape_vec((1, 1, 1, 2), vec![0.0f32, 200.0]).unwrap();
        let labels = Array3::from_elem((1, 1, 1), 0u8);
        let (loss, _) = CrossEntropy::unweighted(2).forward_backward(x.view(), labels.view()).unwrap();
        assert!((loss - 200.0).abs() < 1e-3, "{loss}");
    }

    #[test]
    fn out_of_range_label_is_an_error() {
        let x = Array4::<f32>::zeros((1, 1, 1, 3));
        let labels = Array3::from_elem((1, 1, 1), 7u8);
        let err = CrossEntropy::unweighted(3).forward_backward(x.view(), labels.view()).unwrap_err();
        assert_eq!(err, EngineError::Label { label: 7, classes: 3 });
    }
}

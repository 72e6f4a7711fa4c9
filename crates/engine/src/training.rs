//! The gradient of one batch: what the trainer's data-parallel shards compute before
//! their gradients are averaged and the optimiser steps.

use crate::layers::loss::CrossEntropy;
use crate::{Model, Result, Scalar};
use ndarray::{Array3, Array4};

/// Training forward, loss and backward on a batch: leaves the batch's gradient (not
/// accumulated: gradients are zeroed first) in the model's parameters and returns the loss.
///
/// # Shapes
/// - images: `[N, H, W, in_channels]`
/// - labels: `[N, H, W]`
pub fn loss_and_gradients<T: Scalar>(model: &mut Model<T>, loss: &CrossEntropy, images: &Array4<T>, labels: &Array3<u8>) -> Result<T> {
    let (scores, cache) = model.forward_train(images)?;
    let (value, d_scores) = loss.forward_backward(scores.view(), labels.view())?;
    model.zero_grad();
    model.backward(&cache, d_scores.view());
    Ok(value)
}

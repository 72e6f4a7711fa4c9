//! One optimisation step: the gradient of a batch (what the trainer's data-parallel
//! shards compute) and a single-threaded step (the engine's tests).

use crate::layers::loss::CrossEntropy;
use crate::optim::{Adam, Sgd};
use crate::{Model, Result, Scalar};
use ndarray::{Array3, Array4};

/// Updates parameters from their accumulated gradients.
pub trait Optimizer<T: Scalar> {
    fn step(&mut self, model: &mut Model<T>);
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step(&mut self, model: &mut Model<T>) {
        Sgd::step(self, model)
    }
}

impl<T: Scalar> Optimizer<T> for Adam<T> {
    fn step(&mut self, model: &mut Model<T>) {
        Adam::step(self, model)
    }
}

/// Training forward, loss and backward on a batch `[N, H, W, C]` with labels `[N, H, W]`:
/// leaves the batch's gradient (not accumulated: gradients are zeroed first) in the
/// model's parameters and returns the loss.
pub fn loss_and_gradients<T: Scalar>(model: &mut Model<T>, loss: &CrossEntropy, images: &Array4<T>, labels: &Array3<u8>) -> Result<T> {
    let (scores, cache) = model.forward_train(images)?;
    let (value, d_scores) = loss.forward_backward(scores.view(), labels.view())?;
    model.zero_grad();
    model.backward(&cache, d_scores.view());
    Ok(value)
}

/// [`loss_and_gradients`], then one optimiser step. Returns the loss before the step.
pub fn train_step<T: Scalar>(
    model: &mut Model<T>,
    optimizer: &mut dyn Optimizer<T>,
    loss: &CrossEntropy,
    images: &Array4<T>,
    labels: &Array3<u8>,
) -> Result<T> {
    let value = loss_and_gradients(model, loss, images, labels)?;
    optimizer.step(model);
    Ok(value)
}

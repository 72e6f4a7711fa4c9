//! Scoring a model on a split: predict at the working size, then score either at the
//! working size (fast, for per-epoch validation) or at the dataset's full resolution with
//! the scores upsampled bilinearly (the reported figures, as in SegNet).

use crate::augment::{self, Window};
use crate::data::Split;
use anyhow::{ensure, Result};
use ndarray::{s, Array2, Array4};
use skipscope_engine::layers::loss::argmax;
use skipscope_engine::layers::upsample_bilinear;
use skipscope_engine::metrics::{Evaluation, Scores};
use skipscope_engine::model::Workspace;
use skipscope_engine::weights::Normalization;
use skipscope_engine::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Labels resampled (nearest) to the working size.
    Working,
    /// Scores upsampled to each image's own size; the image must have the working aspect.
    Full,
}

/// The predicted label map of one sample, at `resolution`, and the truth it is scored against.
pub fn predict(model: &Model<f32>, sample: &crate::data::Sample, norm: &Normalization, h: usize, w: usize, resolution: Resolution, ws: &mut Workspace<f32>) -> Result<(Array2<u8>, Array2<u8>)> {
    let (src_h, src_w, _) = sample.image.dim();
    let window = Window::fit(src_h, src_w, h, w);
    let (image, label) = augment::batch(&[(sample, window)], h, w, norm);
    let scores = model.infer(image.view(), ws)?;
    match resolution {
        Resolution::Working => Ok((argmax(scores).slice_move(s![0, .., ..]), label.slice_move(s![0, .., ..]))),
        Resolution::Full => {
            ensure!(
                window.top.abs() < 1e-6 && window.left.abs() < 1e-6,
                "{} is {src_w}x{src_h}, not the working aspect {w}x{h}: full-resolution scoring needs the same aspect",
                sample.name
            );
            let scores: Array4<f32> = scores.to_owned();
            let full = upsample_bilinear::forward(&scores, src_h, src_w);
            Ok((argmax(full.view()).slice_move(s![0, .., ..]), sample.label.clone()))
        }
    }
}

/// G, C, mIoU, BF and per-class IoU of `model` on `split`.
pub fn evaluate(model: &Model<f32>, split: &Split, norm: &Normalization, h: usize, w: usize, resolution: Resolution) -> Result<Scores> {
    let mut ws = Workspace::new();
    let mut evaluation = Evaluation::new(split.n_classes, split.void)?;
    for sample in &split.samples {
        let (predicted, truth) = predict(model, sample, norm, h, w, resolution, &mut ws)?;
        evaluation.add_image(predicted.view(), truth.view())?;
    }
    Ok(evaluation.scores())
}

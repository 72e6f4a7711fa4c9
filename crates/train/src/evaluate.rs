//! Scoring a model on a split: predict at the working size, then score either at the
//! working size (fast, for per-epoch validation) or at the dataset's full resolution with
//! the scores upsampled bilinearly (the reported figures, as in SegNet).

use crate::augment::{self, Window};
use crate::data::Split;
use anyhow::Result;
use ndarray::{s, Array2, Array4};
use skipscope_engine::layers::loss::argmax;
use skipscope_engine::layers::upsample_bilinear;
use skipscope_engine::metrics::{Evaluation, Scores};
use skipscope_engine::model::Workspace;
use skipscope_engine::weights::Normalization;
use skipscope_engine::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Resolution {
    /// Labels resampled (nearest) to the working size.
    Working,
    /// Scores upsampled to each image's own size.
    Full,
}

/// The predicted label map of one sample and the truth it is scored against, both at
/// `resolution`. The image is fitted whole into the working size (padded, not cropped,
/// see [`Window::contain`]); only the region it fills is scored.
pub fn predict(
    model: &Model<f32>,
    sample: &crate::data::Sample,
    norm: &Normalization,
    h: usize,
    w: usize,
    resolution: Resolution,
    ws: &mut Workspace<f32>,
) -> Result<(Array2<u8>, Array2<u8>)> {
    let (src_h, src_w, _) = sample.image.dim();
    let (window, r) = Window::contain(src_h, src_w, h, w);
    let (image, label) = augment::batch(&[(sample, window)], h, w, norm, 0);
    let scores = model.infer(image.view(), ws)?;
    let filled = scores.slice(s![.., r.top..r.top + r.height, r.left..r.left + r.width, ..]);
    match resolution {
        Resolution::Working => Ok((argmax(filled).slice_move(s![0, .., ..]), label.slice_move(s![0, r.top..r.top + r.height, r.left..r.left + r.width]))),
        Resolution::Full => {
            let filled: Array4<f32> = filled.as_standard_layout().into_owned();
            let full = upsample_bilinear::forward(&filled, src_h, src_w);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Sample;
    use ndarray::Array3;
    use skipscope_engine::{ModelConfig, Skip, Upsample};

    #[test]
    fn full_resolution_prediction_covers_the_image_and_scores_no_padding() {
        let config = ModelConfig { in_channels: 3, n_classes: 3, depth: 2, width: 2, upsample: Upsample::Bilinear, skip: Skip::Add };
        let mut model = Model::<f32>::new(config, 1).unwrap();
        model.fold_batch_norm();
        // A 30x20 portrait into a 16x16 working size: 16 rows by 11 columns are filled.
        let sample = Sample { name: "p".into(), image: Array3::from_elem((30, 20, 3), 128), label: Array2::from_elem((30, 20), 2) };
        let norm = Normalization::imagenet();
        let mut ws = Workspace::new();
        let (full, truth) = predict(&model, &sample, &norm, 16, 16, Resolution::Full, &mut ws).unwrap();
        assert_eq!((full.dim(), truth.dim()), ((30, 20), (30, 20)));
        let (working, truth) = predict(&model, &sample, &norm, 16, 16, Resolution::Working, &mut ws).unwrap();
        assert_eq!(working.dim(), (16, 11));
        assert!(truth.iter().all(|&l| l == 2), "no padding pixel is scored");
    }
}

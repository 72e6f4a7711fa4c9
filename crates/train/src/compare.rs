//! A picture of the results: the same test images segmented by several models side by
//! side (one row per image, one column per model, then a column that marks in white the
//! pixels where the models disagree). Only predictions are drawn: no dataset image or
//! label goes into the picture.

use crate::data::Split;
use crate::evaluate::{predict, Resolution};
use anyhow::{ensure, Context, Result};
use ndarray::Array2;
use skipscope_engine::catalog::{self, Dataset};
use skipscope_engine::model::Workspace;
use skipscope_engine::weights::{self, ModelMeta};
use skipscope_engine::Model;
use std::path::Path;

const GAP: u32 = 4;

pub fn compare(dataset: Dataset, weight_files: &[std::path::PathBuf], split: &Split, out: &Path, scale: u32) -> Result<()> {
    ensure!(!weight_files.is_empty(), "name at least one weights file");
    let mut models: Vec<(Model<f32>, ModelMeta, [usize; 2])> = Vec::new();
    for path in weight_files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (mut model, meta) = weights::load(&bytes).with_context(|| format!("loading {}", path.display()))?;
        model.fold_batch_norm();
        let recipe: crate::trainer::Recipe = serde_json::from_value(meta.recipe.clone()).context("the weights carry no recipe")?;
        catalog::check_suits(dataset, meta.config.variant(), &meta).with_context(|| path.display().to_string())?;
        models.push((model, meta, [recipe.height, recipe.width]));
    }
    let (h, w) = split.samples[0].label.dim();
    let (cell_h, cell_w) = (h as u32 / scale, w as u32 / scale);
    let columns = models.len() as u32 + 1;
    let rows = split.samples.len() as u32;
    let mut canvas = image::RgbImage::from_pixel(columns * (cell_w + GAP) - GAP, rows * (cell_h + GAP) - GAP, image::Rgb([255, 255, 255]));
    let mut ws = Workspace::new();
    for (r, sample) in split.samples.iter().enumerate() {
        let mut masks: Vec<Array2<u8>> = Vec::new();
        for (model, meta, [mh, mw]) in &models {
            let (mask, _) = predict(model, sample, &meta.normalization, *mh, *mw, Resolution::Full, &mut ws)?;
            ensure!(mask.dim() == (h, w), "{} is not {w}x{h}", sample.name);
            masks.push(mask);
        }
        for y in 0..cell_h {
            for x in 0..cell_w {
                let (sy, sx) = ((y * scale) as usize, (x * scale) as usize);
                let y0 = r as u32 * (cell_h + GAP) + y;
                for (c, ((_, meta, _), mask)) in models.iter().zip(&masks).enumerate() {
                    let class = mask[[sy, sx]] as usize;
                    let color = meta.classes.get(class).map_or([0, 0, 0], |k| k.color);
                    canvas.put_pixel(c as u32 * (cell_w + GAP) + x, y0, image::Rgb(color));
                }
                let agree = masks.iter().all(|m| m[[sy, sx]] == masks[0][[sy, sx]]);
                let shade = if agree { 40 } else { 255 };
                canvas.put_pixel(models.len() as u32 * (cell_w + GAP) + x, y0, image::Rgb([shade; 3]));
            }
        }
    }
    canvas.save(out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

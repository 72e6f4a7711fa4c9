//! Turning a decoded sample into a network input at the working size: normalisation, and
//! for training a random scale, crop and horizontal flip applied in one resampling pass.

use crate::data::Sample;
use ndarray::{s, Array3, ArrayViewMut2, ArrayViewMut3};
use skipscope_engine::rng::Rng;
use skipscope_engine::weights::Normalization;

/// Where the working-size window comes from in the source image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Source pixels per output pixel (the same on both axes, so nothing is squashed).
    pub step: f64,
    pub top: f64,
    pub left: f64,
    pub flip: bool,
}

/// The rows and columns of a working-size map that show the source image (the rest is
/// padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub top: usize,
    pub left: usize,
    pub height: usize,
    pub width: usize,
}

impl Window {
    /// The smallest zoom that covers the working size (`out_h x out_w`), centred: the
    /// image fills the frame and the longer side is cropped. For CamVid 360x480 ->
    /// 192x256 it is exact.
    pub fn fit(src_h: usize, src_w: usize, out_h: usize, out_w: usize) -> Self {
        let step = (src_h as f64 / out_h as f64).min(src_w as f64 / out_w as f64);
        Self { step, top: (src_h as f64 - step * out_h as f64) / 2.0, left: (src_w as f64 - step * out_w as f64) / 2.0, flip: false }
    }

    /// The whole image scaled into the working size keeping its aspect, centred, with
    /// padding around it (nothing cropped, nothing squashed), and the region it fills.
    pub fn contain(src_h: usize, src_w: usize, out_h: usize, out_w: usize) -> (Self, Region) {
        let step = (src_h as f64 / out_h as f64).max(src_w as f64 / out_w as f64);
        let height = ((src_h as f64 / step).round() as usize).clamp(1, out_h);
        let width = ((src_w as f64 / step).round() as usize).clamp(1, out_w);
        let (top, left) = ((out_h - height) / 2, (out_w - width) / 2);
        let window = Self { step, top: -(top as f64) * step, left: -(left as f64) * step, flip: false };
        (window, Region { top, left, height, width })
    }

    /// A random window: zoomed in by a factor in `[1, max_zoom]` relative to [`Window::fit`]
    /// (`max_zoom >= 1`, so the window stays inside the image), at a random position,
    /// flipped with probability one half.
    pub fn random(src_h: usize, src_w: usize, out_h: usize, out_w: usize, max_zoom: f64, rng: &mut Rng) -> Self {
        let fit = Self::fit(src_h, src_w, out_h, out_w);
        let step = fit.step / (1.0 + (max_zoom - 1.0) * rng.uniform());
        let spare_h = (src_h as f64 - step * out_h as f64).max(0.0);
        let spare_w = (src_w as f64 - step * out_w as f64).max(0.0);
        Self { step, top: spare_h * rng.uniform(), left: spare_w * rng.uniform(), flip: rng.below(2) == 1 }
    }

    /// Source coordinate (continuous, pixel centres at integer + 0.5) of output index `o`.
    fn source(&self, o: usize, offset: f64) -> f64 {
        offset + (o as f64 + 0.5) * self.step
    }
}

/// Writes the normalised, resampled image into `out` `[H, W, 3]` (bilinear) and the label
/// into `label_out` `[H, W]` (nearest). Pixels outside the source are padding: the mean
/// colour (zero after normalisation) and `pad_label`.
pub fn render(sample: &Sample, window: Window, norm: &Normalization, pad_label: u8, mut out: ArrayViewMut3<f32>, mut label_out: ArrayViewMut2<u8>) {
    let (src_h, src_w, _) = sample.image.dim();
    let (h, w, _) = out.dim();
    let clamp = |v: f64, n: usize| v.clamp(0.0, (n - 1) as f64);
    let scale: Vec<f32> = norm.std.iter().map(|s| 1.0 / (255.0 * s)).collect();
    let shift: Vec<f32> = norm.mean.iter().zip(&norm.std).map(|(m, s)| m / s).collect();
    let inside = |v: f64, n: usize| v >= 0.0 && v < n as f64;
    for y in 0..h {
        let sy = window.source(y, window.top);
        let fy = clamp(sy - 0.5, src_h);
        let (y0, wy) = (fy.floor() as usize, (fy - fy.floor()) as f32);
        let y1 = (y0 + 1).min(src_h - 1);
        let ly = (sy.floor() as usize).min(src_h - 1);
        for x in 0..w {
            let xo = if window.flip { w - 1 - x } else { x };
            let sx = window.source(xo, window.left);
            if !inside(sy, src_h) || !inside(sx, src_w) {
                for c in 0..3 {
                    out[[y, x, c]] = 0.0;
                }
                label_out[[y, x]] = pad_label;
                continue;
            }
            let fx = clamp(sx - 0.5, src_w);
            let (x0, wx) = (fx.floor() as usize, (fx - fx.floor()) as f32);
            let x1 = (x0 + 1).min(src_w - 1);
            for c in 0..3 {
                let p = |yy: usize, xx: usize| sample.image[[yy, xx, c]] as f32;
                let top = p(y0, x0) * (1.0 - wx) + p(y0, x1) * wx;
                let bottom = p(y1, x0) * (1.0 - wx) + p(y1, x1) * wx;
                out[[y, x, c]] = (top * (1.0 - wy) + bottom * wy) * scale[c] - shift[c];
            }
            label_out[[y, x]] = sample.label[[ly, (sx.floor() as usize).min(src_w - 1)]];
        }
    }
}

/// A batch `[N, H, W, 3]` and labels `[N, H, W]` from samples and their windows; padding
/// is labelled `pad_label` (the dataset's void label where it has one).
pub fn batch(samples: &[(&Sample, Window)], h: usize, w: usize, norm: &Normalization, pad_label: u8) -> (ndarray::Array4<f32>, Array3<u8>) {
    let mut images = ndarray::Array4::zeros((samples.len(), h, w, 3));
    let mut labels = Array3::zeros((samples.len(), h, w));
    for (i, (sample, window)) in samples.iter().enumerate() {
        render(sample, *window, norm, pad_label, images.slice_mut(s![i, .., .., ..]), labels.slice_mut(s![i, .., ..]));
    }
    (images, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_fits_the_whole_image_and_pads_the_rest() {
        // 830x550 portrait into 256x176: the height limits; 550 / (830 / 256) = 169.6 -> 170
        // columns, so 3 columns of padding each side.
        let (window, region) = Window::contain(830, 550, 256, 176);
        assert_eq!(region, Region { top: 0, left: 3, height: 256, width: 170 });
        assert!((window.step - 830.0 / 256.0).abs() < 1e-12);
        // CamVid's 360x480 fits 192x256 exactly, with no padding.
        let (window, region) = Window::contain(360, 480, 192, 256);
        assert_eq!(region, Region { top: 0, left: 0, height: 192, width: 256 });
        assert_eq!(window, Window::fit(360, 480, 192, 256));
    }

    #[test]
    fn padding_is_the_mean_colour_and_the_pad_label() {
        let sample = Sample { name: "s".into(), image: Array3::from_elem((4, 2, 3), 255), label: ndarray::Array2::from_elem((4, 2), 7) };
        let (window, region) = Window::contain(4, 2, 4, 4);
        assert_eq!(region, Region { top: 0, left: 1, height: 4, width: 2 });
        let norm = Normalization { mean: vec![0.5; 3], std: vec![0.5; 3] };
        let (image, label) = batch(&[(&sample, window)], 4, 4, &norm, 11);
        assert_eq!(label.slice(s![0, 0, ..]).to_vec(), vec![11, 7, 7, 11]);
        assert_eq!(image[[0, 0, 0, 0]], 0.0);
        assert!((image[[0, 0, 1, 0]] - 1.0).abs() < 1e-6, "white is (1 - 0.5) / 0.5");
    }

    #[test]
    fn flip_mirrors_image_and_label_together() {
        // A 2x4 image whose red channel and label both count the column.
        let sample = Sample {
            name: "s".into(),
            image: Array3::from_shape_fn((2, 4, 3), |(_, x, c)| if c == 0 { 50 * x as u8 } else { 0 }),
            label: ndarray::Array2::from_shape_fn((2, 4), |(_, x)| x as u8),
        };
        let norm = Normalization { mean: vec![0.0; 3], std: vec![1.0 / 255.0; 3] };
        let mut window = Window::fit(2, 4, 2, 4);
        window.flip = true;
        let (image, label) = batch(&[(&sample, window)], 2, 4, &norm, 0);
        assert_eq!(label.slice(s![0, 0, ..]).to_vec(), vec![3, 2, 1, 0]);
        let red: Vec<f32> = image.slice(s![0, 0, .., 0]).to_vec();
        assert_eq!(red, vec![150.0, 100.0, 50.0, 0.0]);
    }

    #[test]
    fn random_windows_stay_inside_the_image() {
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let w = Window::random(360, 480, 192, 256, 1.5, &mut rng);
            assert!(w.top >= 0.0 && w.left >= 0.0, "{w:?}");
            assert!(w.top + w.step * 192.0 <= 360.0 + 1e-9 && w.left + w.step * 256.0 <= 480.0 + 1e-9, "{w:?}");
        }
    }
}

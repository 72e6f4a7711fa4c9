//! Turning a user's file into the network's input: the browser decodes it (EXIF orientation
//! applied), it is scaled to fit the model's working size keeping its aspect ratio, and the
//! right and bottom edges are repeated up to a multiple of `2^depth`. Results are cropped
//! back to the scaled picture (see `trace::planes`).

use crate::protocol::InputImage;
use std::rc::Rc;
use wasm_bindgen::{Clamped, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, ImageBitmapOptions, ImageData, ImageOrientation};

/// Files above this size are refused before decoding.
pub const MAX_FILE_BYTES: f64 = 40.0 * 1024.0 * 1024.0;
/// Decoded images above this many pixels are refused.
pub const MAX_PIXELS: u64 = 40_000_000;

/// A decoded, scaled picture.
#[derive(Debug, PartialEq)]
pub struct Picture {
    /// Where it came from: a sample's name or the file's name.
    pub name: String,
    /// Size of the decoded original.
    pub original: (usize, usize),
    /// What it was fit to: the working size and the multiple its sides were padded to.
    pub fitted_to: Fit,
    pub input: InputImage,
    /// RGBA of the scaled picture, `valid_height x valid_width`.
    pub rgba: Vec<u8>,
}

/// What a picture is fit to: the model's working size `[height, width]`, and the multiple
/// (`2^depth`) its padded sides must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    pub size: [usize; 2],
    pub multiple: usize,
}

/// The scaled size `(h, w)` of an `h x w` picture fit into `box_h x box_w` (aspect ratio
/// kept, at least one pixel), and the padded size: each side rounded up to `multiple`.
pub fn fit(h: usize, w: usize, box_h: usize, box_w: usize, multiple: usize) -> ((usize, usize), (usize, usize)) {
    let s = (box_h as f64 / h as f64).min(box_w as f64 / w as f64);
    let sh = ((h as f64 * s).round() as usize).clamp(1, box_h);
    let sw = ((w as f64 * s).round() as usize).clamp(1, box_w);
    let up = |v: usize| v.div_ceil(multiple) * multiple;
    ((sh, sw), (up(sh), up(sw)))
}

/// RGB `ph x pw x 3` from RGBA `sh x sw`, repeating the last row and column.
pub fn pad_rgb(rgba: &[u8], (sh, sw): (usize, usize), (ph, pw): (usize, usize)) -> Vec<u8> {
    let mut out = Vec::with_capacity(ph * pw * 3);
    for y in 0..ph {
        let sy = y.min(sh - 1);
        for x in 0..pw {
            let i = (sy * sw + x.min(sw - 1)) * 4;
            out.extend_from_slice(&rgba[i..i + 3]);
        }
    }
    out
}

fn js_error(e: wasm_bindgen::JsValue) -> String {
    e.as_string().or_else(|| js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string())).unwrap_or_else(|| format!("{e:?}"))
}

/// A fresh, detached canvas of the given size with its 2D context.
pub fn scratch_canvas(width: u32, height: u32) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(js_error)?.dyn_into().map_err(|_| "not a canvas")?;
    canvas.set_width(width);
    canvas.set_height(height);
    let ctx = canvas.get_context("2d").map_err(js_error)?.ok_or("no 2D context")?.dyn_into().map_err(|_| "not a 2D context")?;
    Ok((canvas, ctx))
}

/// Draws RGBA pixels onto `canvas`, resizing it to `width x height`.
pub fn put_rgba(canvas: &HtmlCanvasElement, rgba: &[u8], width: usize, height: usize) -> Result<(), String> {
    if rgba.len() != width * height * 4 || width == 0 || height == 0 {
        return Err("pixel buffer does not match its size".into());
    }
    canvas.set_width(width as u32);
    canvas.set_height(height as u32);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").map_err(js_error)?.ok_or("no 2D context")?.dyn_into().map_err(|_| "not a 2D context")?;
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width as u32, height as u32).map_err(js_error)?;
    ctx.put_image_data(&data, 0.0, 0.0).map_err(js_error)
}

/// Draws `bitmap` scaled to `height x width` (bilinear when `smooth`, else nearest, for
/// labels), closes it, and returns the RGBA pixels.
fn draw_scaled(bitmap: ImageBitmap, (height, width): (usize, usize), smooth: bool) -> Result<Vec<u8>, String> {
    let (_canvas, ctx) = scratch_canvas(width as u32, height as u32)?;
    ctx.set_image_smoothing_enabled(smooth);
    let drawn = ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, width as f64, height as f64);
    bitmap.close();
    drawn.map_err(js_error)?;
    Ok(ctx.get_image_data(0.0, 0.0, width as f64, height as f64).map_err(js_error)?.data().0)
}

/// Decodes `blob` with the browser, applying its EXIF orientation.
async fn open_bitmap(blob: &web_sys::Blob, name: &str) -> Result<ImageBitmap, String> {
    let window = web_sys::window().ok_or("no window")?;
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    let promise = window.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &options).map_err(js_error)?;
    match JsFuture::from(promise).await {
        Ok(b) => b.dyn_into().map_err(|_| "not an image bitmap".to_string()),
        Err(_) => Err(format!("\u{201c}{name}\u{201d} could not be decoded as an image: it is not an image, or it is corrupt.")),
    }
}

/// Decodes `blob` and prepares it for a model whose working size and input multiple are
/// `to`. Every failure is a sentence for the user.
pub async fn decode(blob: web_sys::Blob, name: String, to: Fit) -> Result<Rc<Picture>, String> {
    let size = blob.size();
    if size == 0.0 {
        return Err(format!("\u{201c}{name}\u{201d} is empty."));
    }
    if size > MAX_FILE_BYTES {
        return Err(format!("\u{201c}{name}\u{201d} is {:.0} MB; the limit is {:.0} MB.", size / 1048576.0, MAX_FILE_BYTES / 1048576.0));
    }
    let bitmap = open_bitmap(&blob, &name).await?;
    let (w, h) = (bitmap.width() as usize, bitmap.height() as usize);
    if w == 0 || h == 0 || (w as u64) * (h as u64) > MAX_PIXELS {
        bitmap.close();
        return Err(format!("\u{201c}{name}\u{201d} is {w} x {h} pixels; the limit is {} megapixels.", MAX_PIXELS / 1_000_000));
    }
    let ((sh, sw), (ph, pw)) = fit(h, w, to.size[0], to.size[1], to.multiple);
    let rgba = draw_scaled(bitmap, (sh, sw), true)?;
    let rgb = pad_rgb(&rgba, (sh, sw), (ph, pw));
    let input = InputImage { height: ph, width: pw, valid_height: sh, valid_width: sw, rgb };
    Ok(Rc::new(Picture { name, original: (h, w), fitted_to: to, input, rgba }))
}

/// A ground-truth label image, resized (nearest neighbour) to the picture's scaled size.
#[derive(Debug, PartialEq)]
pub struct Label {
    pub name: String,
    pub height: usize,
    pub width: usize,
    /// Class per pixel; `void` where the label says nothing.
    pub classes: Vec<u8>,
    /// The value of unlabelled pixels (colours outside the palette), ignored in scores.
    pub void: u8,
}

/// Class indices from label RGBA: a grey image whose values are all at most `void` holds
/// class indices; otherwise each pixel's colour must be one of `palette` (else `void`).
pub fn label_classes(rgba: &[u8], palette: &[[u8; 3]], void: u8) -> Vec<u8> {
    let indexed = rgba.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2] && p[0] <= void);
    rgba.chunks_exact(4).map(|p| if indexed { p[0] } else { palette.iter().position(|c| c[..] == p[..3]).map_or(void, |i| i as u8) }).collect()
}

/// Decodes a label image for a picture scaled to `height x width`. Its aspect ratio must
/// match the photo's (within 2%).
pub async fn decode_label(
    blob: web_sys::Blob,
    name: String,
    original: (usize, usize),
    size: (usize, usize),
    palette: Vec<[u8; 3]>,
    void: u8,
) -> Result<Label, String> {
    if blob.size() == 0.0 {
        return Err(format!("\u{201c}{name}\u{201d} is empty."));
    }
    let bitmap = open_bitmap(&blob, &name).await?;
    let (w, h) = (bitmap.width() as usize, bitmap.height() as usize);
    let (oh, ow) = original;
    let ratio = (w as f64 / h.max(1) as f64) / (ow as f64 / oh.max(1) as f64);
    if w == 0 || h == 0 || (w as u64) * (h as u64) > MAX_PIXELS || !(0.98..=1.02).contains(&ratio) {
        bitmap.close();
        return Err(format!("\u{201c}{name}\u{201d} is {w} x {h}: a label must have the photo's shape ({ow} x {oh})."));
    }
    let (sh, sw) = size;
    let rgba = draw_scaled(bitmap, (sh, sw), false)?;
    Ok(Label { name, height: sh, width: sw, classes: label_classes(&rgba, &palette, void), void })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_fit_the_working_size_and_pad_to_the_multiple() {
        assert_eq!(fit(512, 512, 192, 256, 16), ((192, 192), (192, 192)));
        assert_eq!(fit(300, 451, 192, 256, 16), ((170, 256), (176, 256)));
        assert_eq!(fit(4000, 10, 192, 256, 16), ((192, 1), (192, 16)));
        // A shallower model pads less.
        assert_eq!(fit(300, 451, 192, 256, 4), ((170, 256), (172, 256)));
        let rgba = vec![1, 2, 3, 255, 4, 5, 6, 255];
        assert_eq!(pad_rgb(&rgba, (1, 2), (2, 3)), vec![1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    }

    #[test]
    fn labels_are_class_indices_or_palette_colours() {
        let palette = [[128, 128, 128], [128, 0, 0]];
        assert_eq!(label_classes(&[0, 0, 0, 255, 1, 1, 1, 255, 11, 11, 11, 255], &palette, 11), vec![0, 1, 11], "class indices");
        assert_eq!(label_classes(&[128, 0, 0, 255, 128, 128, 128, 255, 1, 2, 3, 255], &palette, 11), vec![1, 0, 11], "colours");
        // A grey value above the void label is no index: then it must be a palette colour.
        assert_eq!(label_classes(&[12, 12, 12, 255, 128, 128, 128, 255], &palette, 11), vec![11, 0]);
    }
}

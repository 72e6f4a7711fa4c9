//! Turning a user's file into the network's input: its head is read first ([`crate::sniff`]:
//! format, declared size, EXIF orientation, animation), the browser decodes it (EXIF
//! orientation applied) straight to the size that fits the model's working size keeping its
//! aspect ratio (`createImageBitmap` with `resizeWidth` / `resizeHeight`; an SVG through an
//! image element, drawn at that size), and the right and bottom edges are repeated up to a
//! multiple of `2^depth`. Results are cropped back to the scaled picture (see `trace::planes`).
//! Formats browsers cannot decode (HEIC, TIFF, camera RAW) are named and refused before
//! decoding.

use crate::protocol::InputImage;
use crate::sniff::{self, Format, Header};
use std::rc::Rc;
use wasm_bindgen::{Clamped, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, ImageBitmap, ImageBitmapOptions, ImageData, ImageOrientation, ResizeQuality};

/// Files above this size are refused before decoding.
pub const MAX_FILE_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;
/// Images above this many pixels (as their header declares, or decoded when it declares
/// nothing) are refused: 16384 x 16384, Chromium's largest canvas, well above the 200 MP
/// of today's largest phone photos.
pub const MAX_PIXELS: u64 = 16384 * 16384;

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
    /// What the page should say about how it was read (an animation's first frame).
    pub note: Option<String>,
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

/// A string property of a thrown value (an `Error`'s or `DOMException`'s `name`, `message`).
pub fn js_field(e: &wasm_bindgen::JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(e, &key.into()).ok().and_then(|m| m.as_string())
}

fn js_error(e: wasm_bindgen::JsValue) -> String {
    e.as_string().or_else(|| js_field(&e, "message")).unwrap_or_else(|| format!("{e:?}"))
}

/// A fresh, detached canvas of the given size with its 2D context.
pub fn scratch_canvas(width: u32, height: u32) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), String> {
    scratch_canvas_with(width, height, false)
}

/// [`scratch_canvas`], with `willReadFrequently` when `read_often` (a canvas read back
/// every frame: the browser keeps its pixels in memory rather than on the GPU).
pub fn scratch_canvas_with(width: u32, height: u32, read_often: bool) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(js_error)?.dyn_into().map_err(|_| "not a canvas")?;
    canvas.set_width(width);
    canvas.set_height(height);
    let options = js_sys::Object::new();
    if read_often {
        let _ = js_sys::Reflect::set(&options, &"willReadFrequently".into(), &wasm_bindgen::JsValue::TRUE);
    }
    let ctx = canvas.get_context_with_context_options("2d", &options).map_err(js_error)?.ok_or("no 2D context")?.dyn_into().map_err(|_| "not a 2D context")?;
    Ok((canvas, ctx))
}

/// The network's input from the RGBA of a picture scaled to `scaled`, its edges repeated to
/// `padded` (see [`fit`] and [`pad_rgb`]).
pub fn input_from_rgba(rgba: &[u8], scaled: (usize, usize), padded: (usize, usize)) -> InputImage {
    InputImage { height: padded.0, width: padded.1, valid_height: scaled.0, valid_width: scaled.1, rgb: pad_rgb(rgba, scaled, padded) }
}

/// Draws RGBA pixels onto `canvas`, resizing it to `width x height`.
pub fn put_rgba(canvas: &HtmlCanvasElement, rgba: &[u8], width: usize, height: usize) -> Result<(), String> {
    if rgba.len() != width * height * 4 || width == 0 || height == 0 {
        return Err(format!("pixel buffer of {} bytes does not match its size {width} x {height}", rgba.len()));
    }
    // Setting a canvas's size, even to its own, clears it and drops its backing store.
    if canvas.width() != width as u32 || canvas.height() != height as u32 {
        canvas.set_width(width as u32);
        canvas.set_height(height as u32);
    }
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

/// Decodes `blob` with the browser, applying its EXIF orientation; scaled to `resize`
/// `(width, height)` while decoding when given.
async fn open_bitmap(blob: &web_sys::Blob, name: &str, resize: Option<(u32, u32)>) -> Result<ImageBitmap, String> {
    let window = web_sys::window().ok_or("no window")?;
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    if let Some((w, h)) = resize {
        options.set_resize_width(w);
        options.set_resize_height(h);
        options.set_resize_quality(ResizeQuality::High);
    }
    let promise = window.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &options).map_err(js_error)?;
    match JsFuture::from(promise).await {
        Ok(b) => b.dyn_into().map_err(|_| "not an image bitmap".to_string()),
        Err(_) => Err(sniff::unsupported(name, Format::Unknown)),
    }
}

/// The first `n` bytes of `blob` (all of them if it is shorter).
async fn head(blob: &web_sys::Blob, n: usize) -> Result<Vec<u8>, String> {
    let part = blob.slice_with_f64_and_f64(0.0, n as f64).map_err(js_error)?;
    let buffer = JsFuture::from(part.array_buffer()).await.map_err(js_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Draws an SVG through an image element at `(height, width)` (a vector, so drawn sharp at
/// the size it is fit to) and returns the RGBA pixels.
async fn draw_svg(blob: &web_sys::Blob, name: &str, (height, width): (usize, usize)) -> Result<Vec<u8>, String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(js_error)?;
    let img = HtmlImageElement::new().map_err(js_error)?;
    img.set_src(&url);
    let decoded = JsFuture::from(img.decode()).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    decoded.map_err(|_| format!("\u{201c}{name}\u{201d} is an SVG file the browser could not draw: it is corrupt, or not a complete SVG image."))?;
    let (_canvas, ctx) = scratch_canvas(width as u32, height as u32)?;
    ctx.draw_image_with_html_image_element_and_dw_and_dh(&img, 0.0, 0.0, width as f64, height as f64).map_err(js_error)?;
    Ok(ctx.get_image_data(0.0, 0.0, width as f64, height as f64).map_err(js_error)?.data().0)
}

fn too_large(name: &str, (w, h): (usize, usize)) -> String {
    format!("\u{201c}{name}\u{201d} is {w} x {h} pixels; the limit is {} megapixels.", MAX_PIXELS / 1_000_000)
}

/// What the page says about an animated file: which frame it shows.
pub fn animated_note(name: &str, format: Format) -> String {
    let kind = match format {
        Format::Gif => "GIF",
        Format::Png => "PNG (APNG)",
        Format::WebP => "WebP",
        Format::Avif => "AVIF",
        _ => "image",
    };
    format!("\u{201c}{name}\u{201d} is an animated {kind}: its first frame is shown.")
}

/// Decodes `blob` and prepares it for a model whose working size and input multiple are
/// `to`. Every failure is a sentence for the user. Memory: the browser gets the size to
/// decode to, so no full-size copy of the picture ever exists in this code (see README,
/// "Large photos", for what the browser itself holds while decoding).
pub async fn decode(blob: web_sys::Blob, name: String, to: Fit) -> Result<Rc<Picture>, String> {
    let size = blob.size();
    if size == 0.0 {
        return Err(format!("\u{201c}{name}\u{201d} is empty."));
    }
    if size > MAX_FILE_BYTES {
        return Err(format!("\u{201c}{name}\u{201d} is {:.0} MB; the limit is {:.0} MB.", size / 1048576.0, MAX_FILE_BYTES / 1048576.0));
    }
    let header: Header = sniff::sniff(&head(&blob, sniff::HEAD_BYTES).await?);
    if !header.format.decodable() {
        return Err(sniff::unsupported(&name, header.format));
    }
    let declared = header.shown_size().map(|(w, h)| (w as usize, h as usize));
    if let Some((w, h)) = declared {
        if w == 0 || h == 0 || (w as u64) * (h as u64) > MAX_PIXELS {
            return Err(too_large(&name, (w, h)));
        }
    }
    let note = header.animated.then(|| animated_note(&name, header.format));
    let (original, (sh, sw), (ph, pw), rgba) = if header.format == Format::Svg {
        // No declared size: the size CSS gives a replaced element without one.
        let (w, h) = declared.unwrap_or((300, 150));
        let ((sh, sw), padded) = fit(h, w, to.size[0], to.size[1], to.multiple);
        ((h, w), (sh, sw), padded, draw_svg(&blob, &name, (sh, sw)).await?)
    } else {
        let resize = declared.map(|(w, h)| fit(h, w, to.size[0], to.size[1], to.multiple).0);
        let bitmap = open_bitmap(&blob, &name, resize.map(|(sh, sw)| (sw as u32, sh as u32))).await?;
        let (bw, bh) = (bitmap.width() as usize, bitmap.height() as usize);
        let original = match (declared, resize) {
            (Some((w, h)), Some(r)) if r == (bh, bw) => (h, w),
            _ => (bh, bw),
        };
        if declared.is_none() && (bw == 0 || bh == 0 || (bw as u64) * (bh as u64) > MAX_PIXELS) {
            bitmap.close();
            return Err(too_large(&name, (bw, bh)));
        }
        let (scaled, padded) = fit(original.0, original.1, to.size[0], to.size[1], to.multiple);
        (original, scaled, padded, draw_scaled(bitmap, scaled, true)?)
    };
    let input = input_from_rgba(&rgba, (sh, sw), (ph, pw));
    Ok(Rc::new(Picture { name, original, fitted_to: to, input, rgba, note }))
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
    let bitmap = open_bitmap(&blob, &name, None).await?;
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

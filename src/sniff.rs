//! What a file is, from its first bytes (never its name or MIME type, which lie): its format,
//! the size its header declares, its EXIF orientation and whether it is animated. Pure: the
//! page reads a file's head with this before decoding, so that it can ask the browser for a
//! picture already scaled down (a 200-megapixel photo is never expanded to full size by our
//! code), name the formats the browser cannot decode, and say when only a first frame is
//! shown.

/// A picture format, as its magic bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Avif,
    Svg,
    /// HEIC / HEIF (iPhones' default): Chromium and Firefox cannot decode it.
    Heic,
    Tiff,
    /// A camera's raw sensor file; the name says which.
    Raw(&'static str),
    Unknown,
}

impl Format {
    /// Whether browsers decode it ([`Format::Unknown`] is tried anyway).
    pub fn decodable(self) -> bool {
        !matches!(self, Format::Heic | Format::Tiff | Format::Raw(_))
    }
}

/// What the head of a file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    /// `(width, height)` as stored (before the EXIF orientation), when the head declares it.
    pub size: Option<(u32, u32)>,
    /// EXIF orientation, 1 (as stored) to 8; 5 to 8 swap width and height.
    pub orientation: u8,
    /// More than one frame (GIF, APNG, animated WebP, AVIF image sequence).
    pub animated: bool,
}

impl Header {
    /// `(width, height)` as shown, the EXIF orientation applied.
    pub fn shown_size(&self) -> Option<(u32, u32)> {
        self.size.map(|(w, h)| if (5..=8).contains(&self.orientation) { (h, w) } else { (w, h) })
    }
}

/// How many leading bytes [`sniff`] wants: enough for the EXIF block, the ICC profile and the
/// frame header of a camera JPEG, and for the frames of a small GIF.
pub const HEAD_BYTES: usize = 1 << 20;

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32)
}
fn le16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32)
}
fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn le32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn le24(b: &[u8], i: usize) -> Option<u32> {
    Some(le16(b, i)? | (*b.get(i + 2)? as u32) << 16)
}

/// Reads the head of a file (ideally its first [`HEAD_BYTES`]; fewer if the file is shorter).
/// Unknown or truncated headers give [`Format::Unknown`] or no size, never a panic.
pub fn sniff(b: &[u8]) -> Header {
    let mut h = Header { format: Format::Unknown, size: None, orientation: 1, animated: false };
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        h.format = Format::Jpeg;
        jpeg(b, &mut h);
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        h.format = Format::Png;
        png(b, &mut h);
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        h.format = Format::Gif;
        h.size = le16(b, 6).zip(le16(b, 8));
        h.animated = gif_frames(b) > 1;
    } else if b.starts_with(b"BM") && b.len() >= 26 {
        h.format = Format::Bmp;
        h.size = le32(b, 18).zip(le32(b, 22)).map(|(w, hh)| ((w as i32).unsigned_abs(), (hh as i32).unsigned_abs()));
    } else if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        h.format = Format::WebP;
        webp(b, &mut h);
    } else if b.get(4..8) == Some(b"ftyp") {
        isobmff(b, &mut h);
    } else if b.starts_with(b"FUJIFILMCCD-RAW") {
        h.format = Format::Raw("Fujifilm RAF");
    } else if b.starts_with(b"IIRO") || b.starts_with(b"IIRS") || b.starts_with(b"MMOR") {
        h.format = Format::Raw("Olympus ORF");
    } else if b.starts_with(b"IIU\0") {
        h.format = Format::Raw("Panasonic RW2");
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        h.format = if b.get(8..10) == Some(b"CR") { Format::Raw("Canon CR2") } else { Format::Tiff };
    } else if is_svg(b) {
        h.format = Format::Svg;
        h.size = svg_size(b).map(|(w, hh)| (w.round().max(1.0) as u32, hh.round().max(1.0) as u32));
    }
    h
}

fn jpeg(b: &[u8], h: &mut Header) {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if (0xD0..=0xD9).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let Some(len) = be16(b, i + 2) else { return };
        let body = i + 4;
        if marker == 0xE1 && b.get(body..body + 6) == Some(b"Exif\0\0") {
            if let Some(o) = exif_orientation(&b[body + 6..]) {
                h.orientation = o;
            }
        }
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            h.size = be16(b, body + 3).zip(be16(b, body + 1));
            return;
        }
        i = body + len as usize - 2;
    }
}

/// The orientation tag (0x0112) of IFD0 of a TIFF block, if it is 1 to 8.
fn exif_orientation(t: &[u8]) -> Option<u8> {
    let little = match t.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |i| if little { le16(t, i) } else { be16(t, i) };
    let u32_at = |i| if little { le32(t, i) } else { be32(t, i) };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    (0..count.min(512)).find_map(|k| {
        let e = ifd + 2 + 12 * k;
        (u16_at(e)? == 0x0112).then(|| u16_at(e + 8)).flatten().and_then(|o| (1..=8).contains(&o).then_some(o as u8))
    })
}

fn png(b: &[u8], h: &mut Header) {
    h.size = be32(b, 16).zip(be32(b, 20));
    // An APNG has an acTL chunk before its first IDAT.
    let mut i = 8;
    while let (Some(len), Some(kind)) = (be32(b, i), b.get(i + 4..i + 8)) {
        match kind {
            b"acTL" => {
                h.animated = be32(b, i + 8).is_some_and(|frames| frames > 1);
                return;
            }
            b"IDAT" | b"IEND" => return,
            _ => i += 12 + len as usize,
        }
    }
}

/// Frames of a GIF found in `b` (counting stops at the end of `b` or at 2).
fn gif_frames(b: &[u8]) -> usize {
    let skip_blocks = |mut i: usize| {
        while let Some(&n) = b.get(i) {
            i += 1 + n as usize;
            if n == 0 {
                return Some(i);
            }
        }
        None
    };
    let Some(&flags) = b.get(10) else { return 0 };
    let mut i = 13 + if flags & 0x80 != 0 { 3 << ((flags & 7) + 1) } else { 0 };
    let mut frames = 0;
    while frames < 2 {
        match b.get(i) {
            Some(0x21) => match skip_blocks(i + 2) {
                Some(next) => i = next,
                None => break,
            },
            Some(0x2C) => {
                frames += 1;
                let Some(&local) = b.get(i + 9) else { break };
                let table = if local & 0x80 != 0 { 3 << ((local & 7) + 1) } else { 0 };
                match skip_blocks(i + 10 + table + 1) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    frames
}

fn webp(b: &[u8], h: &mut Header) {
    match b.get(12..16) {
        Some(b"VP8 ") => h.size = le16(b, 26).zip(le16(b, 28)).map(|(w, hh)| (w & 0x3FFF, hh & 0x3FFF)),
        Some(b"VP8L") => {
            if let Some(bits) = le32(b, 21) {
                h.size = Some((1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)));
            }
        }
        Some(b"VP8X") => {
            h.animated = b.get(20).is_some_and(|f| f & 0x02 != 0);
            h.size = le24(b, 24).zip(le24(b, 27)).map(|(w, hh)| (w + 1, hh + 1));
        }
        _ => {}
    }
}

/// HEIF-family files (AVIF, HEIC, Canon CR3): the `ftyp` box's brands, and the `ispe` box's
/// size for AVIF.
fn isobmff(b: &[u8], h: &mut Header) {
    let end = (be32(b, 0).unwrap_or(0) as usize).clamp(16, b.len().max(16));
    let major = b.get(8..12).unwrap_or_default();
    let brands: Vec<&[u8]> = std::iter::once(major).chain(b.get(16..end).unwrap_or_default().chunks_exact(4)).collect();
    let has = |names: &[&[u8]]| brands.iter().any(|b| names.contains(b));
    h.format = if major == b"crx " {
        Format::Raw("Canon CR3")
    } else if has(&[b"avif", b"avis"]) {
        h.animated = major == b"avis";
        Format::Avif
    } else if has(&[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"]) {
        Format::Heic
    } else {
        Format::Unknown
    };
    if h.format == Format::Avif {
        if let Some(at) = b.windows(4).position(|w| w == b"ispe") {
            h.size = be32(b, at + 8).zip(be32(b, at + 12));
        }
    }
}

fn is_svg(b: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&b[..b.len().min(4096)]);
    let t = head.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with("<?xml") || t.starts_with("<!--") || t.starts_with("<!DOCTYPE svg") || t.starts_with("<svg")) && t.contains("<svg")
}

/// The size an SVG declares: its root's `width` and `height` (plain or `px` numbers), else
/// its `viewBox`'s width and height, else the other one scaled by the `viewBox`'s ratio.
pub fn svg_size(b: &[u8]) -> Option<(f64, f64)> {
    let text = String::from_utf8_lossy(&b[..b.len().min(HEAD_BYTES)]);
    let start = text.find("<svg")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let attr = |name: &str| {
        let mut from = 0;
        while let Some(at) = tag[from..].find(name) {
            let at = from + at;
            let rest = tag[at + name.len()..].trim_start();
            let before_ok = tag[..at].ends_with(|c: char| c.is_whitespace());
            if let (true, Some(rest)) = (before_ok, rest.strip_prefix('=')) {
                let rest = rest.trim_start();
                let quote = rest.chars().next()?;
                let value = &rest[1..];
                return Some(value[..value.find(quote)?].trim().to_string());
            }
            from = at + name.len();
        }
        None
    };
    let length = |v: Option<String>| v.and_then(|v| v.strip_suffix("px").unwrap_or(&v).trim().parse::<f64>().ok()).filter(|x| x.is_finite() && *x > 0.0);
    let view = attr("viewBox").and_then(|v| {
        let n: Vec<f64> = v.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
        (n.len() == 4 && n[2] > 0.0 && n[3] > 0.0).then(|| (n[2], n[3]))
    });
    match (length(attr("width")), length(attr("height")), view) {
        (Some(w), Some(h), _) => Some((w, h)),
        (Some(w), None, Some((vw, vh))) => Some((w, w * vh / vw)),
        (None, Some(h), Some((vw, vh))) => Some((h * vw / vh, h)),
        (_, _, view) => view,
    }
}

/// The sentence for a file whose format the browser cannot decode, naming it and what to do.
pub fn unsupported(name: &str, format: Format) -> String {
    let q = |s: &str| format!("\u{201c}{s}\u{201d}");
    match format {
        Format::Heic => format!(
            "{} is a HEIC (HEIF) photo, which this browser cannot decode. Convert it to JPEG (on an iPhone, share or export it as JPEG, or set Settings > Camera > Formats to Most Compatible) and choose it again.",
            q(name)
        ),
        Format::Tiff => format!("{} is a TIFF image, which browsers cannot decode. Save it as PNG or JPEG and choose it again.", q(name)),
        Format::Raw(kind) => format!(
            "{} is a camera RAW file ({kind}), which browsers cannot decode. Export it as JPEG from your camera's or photo app and choose it again.",
            q(name)
        ),
        _ => format!("{} could not be decoded as an image: it is not an image, or it is corrupt.", q(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with(orientation: Option<u16>, w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        if let Some(o) = orientation {
            let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
            tiff.extend_from_slice(&1u16.to_be_bytes());
            tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
            tiff.extend_from_slice(&o.to_be_bytes());
            tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend(tiff);
            b.extend_from_slice(&[0xFF, 0xE1]);
            b.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
            b.extend(app1);
        }
        // A comment, then the frame header.
        b.extend_from_slice(&[0xFF, 0xFE, 0, 5, b'h', b'i', b'!']);
        b.extend_from_slice(&[0xFF, 0xC2, 0, 11, 8]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0]);
        b
    }

    #[test]
    fn jpeg_size_and_orientation() {
        let h = sniff(&jpeg_with(Some(6), 8064, 6048));
        assert_eq!((h.format, h.size, h.orientation, h.shown_size()), (Format::Jpeg, Some((8064, 6048)), 6, Some((6048, 8064))));
        let h = sniff(&jpeg_with(None, 64, 32));
        assert_eq!((h.size, h.orientation, h.shown_size()), (Some((64, 32)), 1, Some((64, 32))));
        // Truncated anywhere: no size, no panic.
        let full = jpeg_with(Some(3), 10, 20);
        for n in 0..full.len() {
            let h = sniff(&full[..n]);
            assert!(h.size.is_none() || h.size == Some((10, 20)), "{n}");
            assert_eq!(h.size.is_some(), n >= full.len() - 4, "{n}");
        }
    }

    #[test]
    fn png_gif_bmp_webp_sizes_and_animation() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&12000u32.to_be_bytes());
        png.extend_from_slice(&9000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let still = sniff(&png);
        assert_eq!((still.format, still.size, still.animated), (Format::Png, Some((12000, 9000)), false));
        let mut apng = png.clone();
        apng.extend_from_slice(b"\0\0\0\x08acTL\0\0\0\x03\0\0\0\0");
        assert!(sniff(&apng).animated);

        // A 2x1 GIF with a global table of 2 colours and two frames.
        let frame = [0x2C, 0, 0, 0, 0, 2, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0];
        let mut gif = b"GIF89a\x02\x00\x01\x00\x80\x00\x00\0\0\0\xff\xff\xff".to_vec();
        gif.extend_from_slice(&[0x21, 0xF9, 4, 0, 0, 0, 0, 0]);
        gif.extend_from_slice(&frame);
        let one = sniff(&gif);
        assert_eq!((one.format, one.size, one.animated), (Format::Gif, Some((2, 1)), false));
        gif.extend_from_slice(&frame);
        assert!(sniff(&gif).animated);

        let mut bmp = b"BM".to_vec();
        bmp.resize(18, 0);
        bmp.extend_from_slice(&640i32.to_le_bytes());
        bmp.extend_from_slice(&(-480i32).to_le_bytes());
        assert_eq!(sniff(&bmp).size, Some((640, 480)));

        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3F, 0x1F, 0, 0x6F, 0x17, 0]); // 8000 x 6000, minus one
        let w = sniff(&vp8x);
        assert_eq!((w.format, w.size, w.animated), (Format::WebP, Some((8000, 6000)), true));
    }

    #[test]
    fn heif_family_tiff_and_raw_are_named() {
        let ftyp = |major: &[u8], compat: &[u8]| {
            let mut b = ((16 + compat.len()) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(compat);
            b
        };
        assert_eq!(sniff(&ftyp(b"heic", b"mif1heic")).format, Format::Heic);
        let mut avif = ftyp(b"avif", b"mif1avifmiaf");
        avif.extend_from_slice(b"\0\0\0\x14ispe\0\0\0\0\0\0\x10\0\0\0\x0c\0");
        let a = sniff(&avif);
        assert_eq!((a.format, a.size), (Format::Avif, Some((4096, 3072))));
        assert_eq!(sniff(&ftyp(b"mif1", b"mif1avif")).format, Format::Avif, "mif1 with an avif brand is AVIF");
        assert_eq!(sniff(&ftyp(b"crx ", b"crx ")).format, Format::Raw("Canon CR3"));
        assert_eq!(sniff(b"II*\0\x08\0\0\0CR\x02\0").format, Format::Raw("Canon CR2"));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08").format, Format::Tiff);
        assert!(!Format::Heic.decodable() && Format::Avif.decodable() && Format::Unknown.decodable());
        assert!(unsupported("IMG_1.HEIC", Format::Heic).contains("HEIC"));
        assert!(unsupported("a.tif", Format::Tiff).contains("TIFF"));
    }

    #[test]
    fn svg_is_recognised_and_sized() {
        let s = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="640" height="480px"><rect/></svg>"#;
        assert_eq!((sniff(s).format, sniff(s).size), (Format::Svg, Some((640, 480))));
        assert_eq!(svg_size(br#"<svg viewBox="0 0 300 100" stroke-width="2">"#), Some((300.0, 100.0)));
        assert_eq!(svg_size(br#"<svg width="600" viewBox="0,0,300,100">"#), Some((600.0, 200.0)));
        assert_eq!(svg_size(br#"<svg width="100%" height="100%">"#), None);
        assert_eq!(sniff(b"just some text\n").format, Format::Unknown);
    }
}

//! One position followed through every resolution, pure: the page's selected position is a
//! pixel of the photo (`y, x` in input pixels, inside the picture); every stage at level `l`
//! holds it at `(y >> l, x >> l)`, a value that stands for a `2^l x 2^l` block of the photo
//! and depends on the receptive field the engine's `receptive_field` computes.
//!
//! The trace's maps are cropped to the picture: `ceil(valid / 2^l)` rows and columns at level
//! `l`, so a position inside the picture is inside every cropped map (also when the picture's
//! sides are not multiples of `2^l`).

use skipscope_engine::receptive_field::{receptive_fields, Span, StageField};
use skipscope_engine::ModelConfig;

/// A pixel of the photo: row `y`, column `x` of the network's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    pub y: usize,
    pub x: usize,
}

impl Position {
    /// The position of this pixel in a map at `level`: `(y >> level, x >> level)`.
    pub fn at_level(self, level: usize) -> (usize, usize) {
        (self.y >> level, self.x >> level)
    }

    /// The pixel a map position stands for: the centre of its `2^level` block, clamped into
    /// the `valid_h x valid_w` picture (so it maps back to `(my, mx)` at `level`).
    pub fn of_map(my: usize, mx: usize, level: usize, valid_h: usize, valid_w: usize) -> Self {
        let half = (1usize << level) >> 1;
        Position { y: ((my << level) + half).min(valid_h.saturating_sub(1)), x: ((mx << level) + half).min(valid_w.saturating_sub(1)) }
    }

    /// The pixel under a pointer at fractions `(fy, fx)` (each in `0..1`) of a map of
    /// `map_h x map_w` values at `level`.
    pub fn of_fraction(fy: f64, fx: f64, map_h: usize, map_w: usize, level: usize, valid_h: usize, valid_w: usize) -> Self {
        let cell = |f: f64, n: usize| ((f * n as f64).floor().max(0.0) as usize).min(n.saturating_sub(1));
        Self::of_map(cell(fy, map_h), cell(fx, map_w), level, valid_h, valid_w)
    }

    /// This position moved by `(dy, dx)` pixels, kept inside the picture.
    pub fn moved(self, dy: i64, dx: i64, valid_h: usize, valid_w: usize) -> Self {
        let step = |v: usize, d: i64, n: usize| (v as i64 + d).clamp(0, n.saturating_sub(1) as i64) as usize;
        Position { y: step(self.y, dy, valid_h), x: step(self.x, dx, valid_w) }
    }

    /// `p` if it lies inside the `valid_h x valid_w` picture, else the picture's centre (what
    /// the page follows before anything is pointed at, or when a URL's position is outside).
    pub fn or_centre(p: Option<Position>, valid_h: usize, valid_w: usize) -> Self {
        p.and_then(|p| p.inside(valid_h, valid_w)).unwrap_or(Position { y: valid_h / 2, x: valid_w / 2 })
    }

    /// The position if it lies inside a `valid_h x valid_w` picture.
    pub fn inside(self, valid_h: usize, valid_w: usize) -> Option<Self> {
        (self.y < valid_h && self.x < valid_w).then_some(self)
    }
}

/// Rows (or columns) of a map at `level` cropped to a picture side of `valid`: `ceil(valid / 2^level)`.
pub fn cropped_side(valid: usize, level: usize) -> usize {
    valid.div_ceil(1 << level).max(1)
}

/// Where the position is in one stage, and what the value there stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct StageMark {
    pub name: String,
    pub level: usize,
    /// The cropped map's size.
    pub height: usize,
    pub width: usize,
    /// The value at the position: row and column of the map.
    pub y: usize,
    pub x: usize,
    /// Photo pixels per value: `4^level` (a `2^level` square).
    pub pixels_per_value: usize,
    /// The input rows and columns the value depends on (on the padded input).
    pub rows: Span,
    pub cols: Span,
}

impl StageMark {
    /// The receptive field clipped to the picture, `(rows, cols)`; the rest of it lies in the
    /// padding (edge pixels repeated).
    pub fn field_in_picture(&self, valid_h: usize, valid_w: usize) -> (Span, Span) {
        let clip = |s: Span, n: usize| Span { lo: s.lo.min(n - 1), hi: s.hi.min(n - 1) };
        (clip(self.rows, valid_h), clip(self.cols, valid_w))
    }
}

/// The receptive fields of every stage for a model on a padded `height x width` input.
pub struct Fields {
    stages: Vec<StageField>,
    valid_h: usize,
    valid_w: usize,
}

impl Fields {
    /// # Shapes
    /// - `height`, `width`: the padded input (multiples of `2^depth`)
    /// - `valid_h <= height`, `valid_w <= width`: the picture inside it
    pub fn new(config: &ModelConfig, height: usize, width: usize, valid_h: usize, valid_w: usize) -> Self {
        Fields { stages: receptive_fields(config, height, width), valid_h: valid_h.clamp(1, height), valid_w: valid_w.clamp(1, width) }
    }

    /// The picture's size.
    pub fn valid(&self) -> (usize, usize) {
        (self.valid_h, self.valid_w)
    }

    /// `pos` in every stage, in the order of `stage_names` (none if outside the picture).
    pub fn marks(&self, pos: Position) -> Option<Vec<StageMark>> {
        let pos = pos.inside(self.valid_h, self.valid_w)?;
        Some(self.stages.iter().map(|f| self.mark(f, pos)).collect())
    }

    /// `pos` in the stage `name`.
    pub fn mark_of(&self, name: &str, pos: Position) -> Option<StageMark> {
        let pos = pos.inside(self.valid_h, self.valid_w)?;
        self.stages.iter().find(|f| f.name == name).map(|f| self.mark(f, pos))
    }

    fn mark(&self, f: &StageField, pos: Position) -> StageMark {
        let (y, x) = pos.at_level(f.level);
        let (rows, cols) = f.region(y, x);
        StageMark {
            name: f.name.clone(),
            level: f.level,
            height: cropped_side(self.valid_h, f.level),
            width: cropped_side(self.valid_w, f.level),
            y,
            x,
            pixels_per_value: f.pixels_per_value(),
            rows,
            cols,
        }
    }
}

/// The architecture of a model the worker described: what the receptive fields need.
pub fn config_of(m: &crate::protocol::ModelSummary) -> ModelConfig {
    ModelConfig { in_channels: 3, n_classes: m.classes.len(), depth: m.depth, width: m.width, upsample: m.variant.upsample, skip: m.variant.skip }
}

/// `at=y,x`, as the URL writes it.
pub fn parse(s: &str) -> Option<Position> {
    let (y, x) = s.split_once(',')?;
    let (y, x) = (y.trim().parse().ok()?, x.trim().parse().ok()?);
    // Larger than any working size: a typo, not a pixel.
    (y < 1 << 14 && x < 1 << 14).then_some(Position { y, x })
}

/// The URL's `y,x`.
pub fn format(p: Position) -> String {
    format!("{},{}", p.y, p.x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Dataset, InputImage, Request, Response, StageData, TracePart, Variant};
    use crate::trace::Engine;
    use skipscope_engine::{stage_names, Skip, Upsample};

    /// A 45 x 61 picture in a 48 x 64 input: every level of depth 4 crops an odd side.
    fn image() -> InputImage {
        let (h, w) = (48, 64);
        InputImage { height: h, width: w, valid_height: 45, valid_width: 61, rgb: (0..h * w * 3).map(|i| (i * 13 % 241) as u8).collect() }
    }

    fn trace(variant: Variant) -> Vec<StageData> {
        let mut out = Vec::new();
        Engine::new().handle(Request::Trace { serial: 1, dataset: Dataset::Ccp, variant, image: image(), part: TracePart::Whole }, &|| 0.0, &mut |r| {
            if let Response::Stage { stage, .. } = r {
                out.push(stage)
            }
        });
        out
    }

    #[test]
    fn every_pixel_maps_into_every_cropped_map_and_its_block_and_field() {
        let variant = Variant::new(Upsample::Transposed, Skip::Add);
        let stages = trace(variant);
        let config =
            ModelConfig { in_channels: 3, n_classes: Dataset::Ccp.classes().len(), depth: 4, width: 8, upsample: variant.upsample, skip: variant.skip };
        let fields = Fields::new(&config, 48, 64, 45, 61);
        assert_eq!(stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), stage_names(4));
        for y in 0..45 {
            for x in 0..61 {
                let pos = Position { y, x };
                let marks = fields.marks(pos).unwrap();
                for (m, s) in marks.iter().zip(&stages) {
                    assert_eq!((m.name.as_str(), m.level), (s.name.as_str(), s.level));
                    // The map the page holds is exactly the cropped size the mark says.
                    assert_eq!((m.height, m.width), (s.planes.shape.height, s.planes.shape.width), "{}", m.name);
                    assert!(m.y < m.height && m.x < m.width, "{} {pos:?}", m.name);
                    // The pixel is in the value's block and in its receptive field.
                    let side = 1 << m.level;
                    assert!(m.y * side <= y && y < (m.y + 1) * side && m.x * side <= x && x < (m.x + 1) * side);
                    assert!(m.rows.lo <= y && y <= m.rows.hi && m.cols.lo <= x && x <= m.cols.hi, "{} {pos:?}", m.name);
                    assert_eq!(m.pixels_per_value, side * side);
                    // Pointing at that value of that map selects a pixel that maps back to it.
                    let back = Position::of_map(m.y, m.x, m.level, 45, 61);
                    assert_eq!(back.at_level(m.level), (m.y, m.x), "{} {pos:?}", m.name);
                    let fy = (m.y as f64 + 0.5) / m.height as f64;
                    let fx = (m.x as f64 + 0.5) / m.width as f64;
                    assert_eq!(Position::of_fraction(fy, fx, m.height, m.width, m.level, 45, 61), back);
                }
            }
        }
        // The last pixel of the odd picture: level 4 holds it at (2, 3) of a 3 x 4 map.
        let deepest = fields.mark_of("pool.3", Position { y: 44, x: 60 }).unwrap();
        assert_eq!((deepest.y, deepest.x, deepest.height, deepest.width), (2, 3, 3, 4));
        assert_eq!(fields.marks(Position { y: 45, x: 0 }), None, "outside the picture");
    }

    #[test]
    fn fields_clip_to_the_picture_and_positions_move_inside_it() {
        let config = ModelConfig { in_channels: 3, n_classes: 4, depth: 2, width: 4, upsample: Upsample::Bilinear, skip: Skip::Concat };
        let fields = Fields::new(&config, 16, 16, 13, 15);
        let head = fields.mark_of("head", Position { y: 12, x: 14 }).unwrap();
        assert_eq!(head.rows.hi, 15, "the padded input");
        let (rows, cols) = head.field_in_picture(13, 15);
        assert_eq!((rows.hi, cols.hi), (12, 14));
        let p = Position { y: 0, x: 14 };
        assert_eq!(p.moved(-1, 1, 13, 15), p);
        assert_eq!(p.moved(3, -2, 13, 15), Position { y: 3, x: 12 });
        assert_eq!(Position::of_fraction(1.0, -0.2, 4, 4, 2, 13, 15), Position { y: 12, x: 2 });
    }

    #[test]
    fn the_url_form_round_trips() {
        let p = Position { y: 120, x: 7 };
        assert_eq!(parse(&format(p)), Some(p));
        assert_eq!(parse("3, 4"), Some(Position { y: 3, x: 4 }));
        for bad in ["", "3", "a,b", "-1,2", "3,4,5", "99999,1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}

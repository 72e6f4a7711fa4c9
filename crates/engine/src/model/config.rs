//! What a model is: the upsampling and skip choices, their names, and [`ModelConfig`].

use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};

/// How the decoder doubles the resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Upsample {
    /// Max unpooling with the indices of the matching encoder pool (SegNet).
    Unpool,
    /// Learned transposed convolution, kernel 4, stride 2, initialised to bilinear (FCN).
    Transposed,
    /// Fixed bilinear interpolation, `align_corners=False`.
    Bilinear,
}

/// How the encoder map from before pooling joins the decoder at the same resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skip {
    /// No skip: the decoder sees only the upsampled deep map.
    None,
    /// FCN: a 1x1 projection of the encoder map is added to the upsampled map.
    Add,
    /// U-Net: the encoder map is stacked onto the upsampled map as extra channels.
    Concat,
}

impl Upsample {
    pub const ALL: [Upsample; 3] = [Upsample::Unpool, Upsample::Transposed, Upsample::Bilinear];

    pub fn name(self) -> &'static str {
        match self {
            Upsample::Unpool => "unpool",
            Upsample::Transposed => "transposed",
            Upsample::Bilinear => "bilinear",
        }
    }
}

impl Skip {
    pub const ALL: [Skip; 3] = [Skip::None, Skip::Add, Skip::Concat];

    pub fn name(self) -> &'static str {
        match self {
            Skip::None => "none",
            Skip::Add => "add",
            Skip::Concat => "concat",
        }
    }
}

/// Prints and parses the lowercase names used everywhere (CLI, URL, manifest, file names).
macro_rules! named_enum {
    ($ty:ident, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = EngineError;

            fn from_str(s: &str) -> Result<Self> {
                Self::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|x| x.name()).collect();
                    EngineError::Config(format!("unknown {} {s:?}: expected one of {}", $what, names.join(", ")))
                })
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(Upsample, "upsampling");
named_enum!(Skip, "skip");

/// One of the nine networks of a dataset: how the decoder upsamples and how the skip joins.
/// Prints and parses as `upsample-skip`, e.g. `transposed-add`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    pub upsample: Upsample,
    pub skip: Skip,
}

impl Variant {
    pub const fn new(upsample: Upsample, skip: Skip) -> Self {
        Self { upsample, skip }
    }

    pub fn with_skip(self, skip: Skip) -> Self {
        Self { skip, ..self }
    }

    pub fn with_upsample(self, upsample: Upsample) -> Self {
        Self { upsample, ..self }
    }

    /// All nine, upsampling-major (`unpool-none`, `unpool-add`, ...).
    pub fn all() -> impl Iterator<Item = Variant> {
        Upsample::ALL.into_iter().flat_map(|u| Skip::ALL.into_iter().map(move |s| Variant::new(u, s)))
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.upsample, self.skip)
    }
}

impl std::str::FromStr for Variant {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        let (u, k) = s.split_once('-').ok_or_else(|| EngineError::Config(format!("a variant is upsample-skip, e.g. transposed-add; got {s:?}")))?;
        Ok(Variant::new(u.parse()?, k.parse()?))
    }
}

/// Every stage name of a model of `depth`, in network order: `input`, `enc.0`, `pool.0`,
/// ..., `enc.{depth-1}`, `pool.{depth-1}`, `bottleneck`, `dec.{depth-1}`, ..., `dec.0`,
/// `head`. The same in every variant, so variants compare stage by stage.
pub fn stage_names(depth: usize) -> Vec<String> {
    let mut names = vec!["input".to_string()];
    for k in 0..depth {
        names.push(format!("enc.{k}"));
        names.push(format!("pool.{k}"));
    }
    names.push("bottleneck".into());
    for k in (0..depth).rev() {
        names.push(format!("dec.{k}"));
    }
    names.push("head".into());
    names
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub in_channels: usize,
    pub n_classes: usize,
    /// Number of poolings (encoder stages); inputs must be multiples of `2^depth`.
    pub depth: usize,
    /// Channels of the first encoder stage; doubles per stage.
    pub width: usize,
    pub upsample: Upsample,
    pub skip: Skip,
}

impl ModelConfig {
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(EngineError::Config(msg));
        if self.in_channels == 0 || self.in_channels > 64 {
            return bad(format!("in_channels must be 1..=64, got {}", self.in_channels));
        }
        if self.n_classes < 2 || self.n_classes > 255 {
            return bad(format!("n_classes must be 2..=255, got {}", self.n_classes));
        }
        if self.depth == 0 || self.depth > 6 {
            return bad(format!("depth must be 1..=6, got {}", self.depth));
        }
        if self.width == 0 || self.width > 256 {
            return bad(format!("width must be 1..=256, got {}", self.width));
        }
        if self.channels(self.depth) > 1024 {
            return bad(format!("width * 2^depth must be at most 1024, got {} * 2^{}", self.width, self.depth));
        }
        Ok(())
    }

    /// Channels of encoder stage `k`: `width * 2^k`.
    pub fn channels(&self, k: usize) -> usize {
        self.width << k
    }

    /// Input sides must be multiples of this (`2^depth`).
    pub fn multiple(&self) -> usize {
        1 << self.depth
    }

    /// A short name for the variant, e.g. `transposed-add`.
    pub fn variant(&self) -> Variant {
        Variant::new(self.upsample, self.skip)
    }

    /// `[in, mid, out]` channels of encoder block `enc.k`.
    pub fn encoder_channels(&self, k: usize) -> [usize; 3] {
        let input = if k == 0 { self.in_channels } else { self.channels(k - 1) };
        [input, self.channels(k), self.channels(k)]
    }

    /// `[in, mid, out]` channels of the bottleneck block.
    pub fn bottleneck_channels(&self) -> [usize; 3] {
        let d = self.depth;
        [self.channels(d - 1), self.channels(d), self.channels(d - 1)]
    }

    /// `[in, mid, out]` channels of decoder block `dec.k`: its input is the fused map
    /// (`2 C_k` with concat, else `C_k`), its output `C_{k-1}` (`width` for `k = 0`).
    pub fn decoder_channels(&self, k: usize) -> [usize; 3] {
        let fused = if self.skip == Skip::Concat { 2 * self.channels(k) } else { self.channels(k) };
        [fused, self.channels(k), self.channels(k.saturating_sub(1))]
    }

    /// Checks an input shape `[N, H, W, C]`.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<()> {
        let [_, h, w, c] = shape;
        if c != self.in_channels {
            return Err(EngineError::Shape { what: "model input channels".into(), expected: vec![self.in_channels], got: vec![c] });
        }
        let m = self.multiple();
        if h == 0 || w == 0 || h % m != 0 || w % m != 0 {
            return Err(EngineError::InputSize { height: h, width: w, multiple: m });
        }
        Ok(())
    }
}

//! Messages between the page and the worker. gloo-worker encodes them with bincode.
//!
//! - [`Request::Load`] is answered by [`Response::Loaded`] or [`Response::LoadFailed`].
//! - [`Request::Trace`] is answered by [`Response::Started`], one [`Response::Stage`] per
//!   stage as soon as the worker has computed it, then [`Response::Finished`] (with the
//!   mask); or by [`Response::Failed`] at any point.
//! - [`Request::Segment`] is answered by [`Response::Segmented`] or [`Response::Failed`].
//! - [`Request::Ablate`] is answered by [`Response::Ablated`] or [`Response::Failed`].
//!
//! Every request carries a `serial` from the page's one counter (which also numbers picture
//! decodes and label decodes), and every answer repeats it with the variant it is about.
//! The page's state keeps the serial it expects per slot (a variant's trace, its mask for the
//! comparison, a download's load) and drops any answer with another: that is the only
//! staleness rule. [`Response::Crashed`] answers everything. Maps travel as `f32` planes, channel-major
//! (`[C, H, W]`), already cropped to the image (the padding added to reach a multiple of
//! `2^depth` is removed).

use serde::{Deserialize, Serialize};
pub use skipscope_engine::catalog::Dataset;
use skipscope_engine::model::StageKind;
use skipscope_engine::weights::ClassInfo;
pub use skipscope_engine::Variant;
use std::fmt;

/// An image ready for the network: RGB bytes, row-major, `height x width x 3`, where both
/// sides are multiples of `2^depth`; the picture itself is the top-left
/// `valid_height x valid_width` (the rest repeats its edge pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputImage {
    pub height: usize,
    pub width: usize,
    pub valid_height: usize,
    pub valid_width: usize,
    pub rgb: Vec<u8>,
}

/// Page to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Trained weights for `variant` on `dataset` (a safetensors file). Replaces any
    /// earlier model of that pair.
    Load { serial: u32, dataset: Dataset, variant: Variant, bytes: Vec<u8> },
    /// Trace one image through `variant` of `dataset`: trained weights if loaded, else
    /// random ones with the dataset's classes.
    Trace { serial: u32, dataset: Dataset, variant: Variant, image: InputImage },
    /// Only the mask of one image through `variant` of `dataset` (for comparisons).
    Segment { serial: u32, dataset: Dataset, variant: Variant, image: InputImage },
    /// The mask of one image through `variant` of `dataset` with the skip switched off at
    /// the decoder levels `k` where `off[k]` (the trained weights unchanged; see the engine's
    /// `Model::infer_ablated`).
    Ablate { serial: u32, dataset: Dataset, variant: Variant, image: InputImage, off: Vec<bool> },
}

/// Worker to page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    Loaded {
        serial: u32,
        dataset: Dataset,
        variant: Variant,
        model: ModelSummary,
    },
    LoadFailed {
        serial: u32,
        dataset: Dataset,
        variant: Variant,
        message: String,
    },
    /// The model is ready.
    Started {
        serial: u32,
        variant: Variant,
        model: ModelSummary,
    },
    /// One stage of the forward pass, in network order.
    Stage {
        serial: u32,
        variant: Variant,
        stage: StageData,
    },
    /// The forward pass is done; `forward_ms` counts every stage.
    Finished {
        serial: u32,
        variant: Variant,
        forward_ms: f64,
        mask: Mask,
    },
    Segmented {
        serial: u32,
        variant: Variant,
        model: ModelSummary,
        mask: Mask,
        ms: f64,
    },
    /// The answer to [`Request::Ablate`]: the mask with the skip off where `off` says.
    Ablated {
        serial: u32,
        variant: Variant,
        off: Vec<bool>,
        mask: Mask,
        ms: f64,
    },
    /// A trace, a segmentation or an ablation failed.
    Failed {
        serial: u32,
        variant: Variant,
        message: String,
    },
    /// The worker hit an internal error (a Rust panic, `message`) and stops: no other
    /// request will be answered.
    Crashed {
        message: String,
    },
}

impl Request {
    /// The serial its answers carry.
    pub fn serial(&self) -> u32 {
        match self {
            Request::Load { serial, .. } | Request::Trace { serial, .. } | Request::Segment { serial, .. } | Request::Ablate { serial, .. } => *serial,
        }
    }
}

impl Response {
    /// The serial of the request this answers (none for a crash, which answers all).
    pub fn serial(&self) -> Option<u32> {
        match self {
            Response::Loaded { serial, .. }
            | Response::LoadFailed { serial, .. }
            | Response::Started { serial, .. }
            | Response::Stage { serial, .. }
            | Response::Finished { serial, .. }
            | Response::Segmented { serial, .. }
            | Response::Ablated { serial, .. }
            | Response::Failed { serial, .. } => Some(*serial),
            Response::Crashed { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub dataset: Dataset,
    pub variant: Variant,
    pub depth: usize,
    pub width: usize,
    pub parameters: usize,
    /// False: randomly initialised (no trained weights loaded for this variant).
    pub trained: bool,
    /// One per class, in class-index order.
    pub classes: Vec<ClassInfo>,
    /// `[height, width]` the model runs at: its recipe's, else its dataset's.
    pub working_size: [usize; 2],
    /// What its file's metrics say (e.g. "test mIoU 63.7%, BF 54.2%"), if anything.
    pub scores: Option<String>,
}

/// The shape of one map for one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl fmt::Display for MapShape {
    /// `C x H x W`, e.g. `16 x 96 x 128`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x {} x {}", self.channels, self.height, self.width)
    }
}

/// A stack of maps, channel-major: `values[(c * height + y) * width + x]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Planes {
    pub shape: MapShape,
    pub values: Vec<f32>,
}

impl Planes {
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.shape.height * self.shape.width;
        &self.values[c * n..(c + 1) * n]
    }
}

/// The decoder's three maps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecoderPlanes {
    pub upsampled: Planes,
    /// The projected encoder map (add), the encoder map (concat); none without a skip.
    pub skip: Option<Planes>,
    pub fused: Planes,
    /// The level's small learned weights as run, for the close-ups (boxed: it keeps
    /// `Response::Stage` small).
    pub weights: Box<DecoderWeights>,
}

/// A decoder level's upsampler and projection weights, row-major in the engine's layouts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecoderWeights {
    /// Transposed convolution (transposed variants): `[C, 4, 4, C]` (`C_in, KH, KW, C_out`).
    pub up_weight: Option<Vec<f32>>,
    /// Its bias, `[C]`.
    pub up_bias: Option<Vec<f32>>,
    /// The add skip's 1x1 projection: `[C, C]` (`C_in, C_out`).
    pub proj_weight: Option<Vec<f32>>,
    /// Its bias, `[C]`.
    pub proj_bias: Option<Vec<f32>>,
}

/// One stage's output for the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageData {
    /// `input`, `enc.k`, `pool.k`, `bottleneck`, `dec.k`, `head`.
    pub name: String,
    pub kind: StageKind,
    /// Resolution level: the map is `H / 2^level` by `W / 2^level`.
    pub level: usize,
    /// The stage's output; for `head`, class probabilities; for `input`, the normalised image.
    pub planes: Planes,
    /// Pool stages: for each pooled value (same layout as `planes`), where in its 2x2
    /// window the maximum was: `2 * dy + dx`.
    pub argmax: Option<Vec<u8>>,
    pub parts: Option<DecoderPlanes>,
    /// Time from the previous stage's report to this one's (computation and copy).
    pub ms: f64,
}

/// Class index per pixel, row-major, cropped to the image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mask {
    pub height: usize,
    pub width: usize,
    pub classes: Vec<u8>,
}

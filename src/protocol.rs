//! Messages between the page and the worker. gloo-worker encodes them with bincode.
//!
//! - [`Request::Load`] is answered by [`Response::Loaded`] or [`Response::LoadFailed`].
//! - [`Request::Trace`] of [`TracePart::Whole`] is answered by [`Response::Started`],
//!   [`Response::Mask`] (the mask first, from the model's plain forward pass in its kept
//!   workspace), one [`Response::Stage`] per stage of a second, traced pass as soon as the
//!   worker has computed it, then [`Response::Finished`] (with the trace's mask, the same
//!   pixels); or by [`Response::Failed`] at any point. [`TracePart::Mask`] is answered by
//!   `Started` and `Mask` only, [`TracePart::Stages`] by all but `Mask`: the page sends the
//!   two halves, under one serial, to two workers that compute them at the same time.
//! - [`Request::Segment`] is answered by [`Response::Segmented`] or [`Response::Failed`].
//! - [`Request::Ablate`] is answered by [`Response::Ablated`] or [`Response::Failed`].
//!
//! Every request carries a `serial` from the page's one counter (which also numbers picture
//! decodes and label decodes), and every answer repeats it with the variant it is about.
//! The page's state keeps the serial it expects per slot (a variant's trace, its mask for the
//! comparison, a download's load) and drops any answer with another: that is the only
//! staleness rule. [`Response::Crashed`] answers everything. Maps travel as `f32` planes, channel-major
//! (`[C, H, W]`), already cropped to the image (the padding added to reach a multiple of
//! `2^depth` is removed). Byte and `f32` buffers are encoded as one byte string each
//! ([`wire`]): bincode then copies them whole instead of writing every value on its own.

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
    #[serde(with = "wire::bytes")]
    pub rgb: Vec<u8>,
}

/// Page to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Trained weights for `variant` on `dataset` (a safetensors file). Replaces any
    /// earlier model of that pair.
    Load {
        serial: u32,
        dataset: Dataset,
        variant: Variant,
        #[serde(with = "wire::bytes")]
        bytes: Vec<u8>,
    },
    /// Trace one image through `variant` of `dataset`: trained weights if loaded, else
    /// random ones with the dataset's classes.
    Trace { serial: u32, dataset: Dataset, variant: Variant, image: InputImage, part: TracePart },
    /// Only the mask of one image through `variant` of `dataset` (for comparisons).
    Segment { serial: u32, dataset: Dataset, variant: Variant, image: InputImage },
    /// The mask of one image through `variant` of `dataset` with the skip switched off at
    /// the decoder levels `k` where `off[k]` (the trained weights unchanged; see the engine's
    /// `Model::infer_ablated`).
    Ablate { serial: u32, dataset: Dataset, variant: Variant, image: InputImage, off: Vec<bool> },
    /// To the trace worker, while the mask worker computes what the user waits for: hold
    /// every computation at its next level or request boundary (for at most
    /// `worker::LONGEST_PAUSE_MS`), so that the two do not share the cores. No answer.
    Pause,
    /// The end of a [`Request::Pause`]. No answer.
    Resume,
}

/// Which answers of a trace a worker computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TracePart {
    /// The mask, then every stage.
    Whole,
    /// The mask alone.
    Mask,
    /// Every stage, without the mask first.
    Stages,
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
    /// The trace's mask, before any stage: `ms` is its forward pass (`Model::infer`).
    Mask {
        serial: u32,
        variant: Variant,
        mask: Mask,
        ms: f64,
    },
    /// One stage of the traced forward pass, in network order.
    Stage {
        serial: u32,
        variant: Variant,
        stage: StageData,
    },
    /// The traced forward pass is done; `forward_ms` counts every stage.
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
            Request::Pause | Request::Resume => 0,
        }
    }
}

impl Request {
    /// What it is and its serial, e.g. `Trace/Mask #4` (for performance marks).
    pub fn label(&self) -> String {
        match self {
            Request::Load { serial, variant, .. } => format!("Load {variant} #{serial}"),
            Request::Trace { serial, variant, part, .. } => format!("Trace/{part:?} {variant} #{serial}"),
            Request::Segment { serial, variant, .. } => format!("Segment {variant} #{serial}"),
            Request::Ablate { serial, variant, .. } => format!("Ablate {variant} #{serial}"),
            Request::Pause => "Pause".into(),
            Request::Resume => "Resume".into(),
        }
    }
}

impl Response {
    /// What it is and its serial, e.g. `Mask #4` (for performance marks).
    pub fn label(&self) -> String {
        let kind = match self {
            Response::Loaded { .. } => "Loaded",
            Response::LoadFailed { .. } => "LoadFailed",
            Response::Started { .. } => "Started",
            Response::Mask { .. } => "Mask",
            Response::Stage { .. } => "Stage",
            Response::Finished { .. } => "Finished",
            Response::Segmented { .. } => "Segmented",
            Response::Ablated { .. } => "Ablated",
            Response::Failed { .. } => "Failed",
            Response::Crashed { .. } => "Crashed",
        };
        match (self, self.serial()) {
            (Response::Stage { stage, .. }, Some(s)) => format!("Stage {} #{s}", stage.name),
            (_, Some(s)) => format!("{kind} #{s}"),
            (_, None) => kind.to_string(),
        }
    }

    /// The serial of the request this answers (none for a crash, which answers all).
    pub fn serial(&self) -> Option<u32> {
        match self {
            Response::Loaded { serial, .. }
            | Response::LoadFailed { serial, .. }
            | Response::Started { serial, .. }
            | Response::Mask { serial, .. }
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
    #[serde(with = "wire::f32s")]
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
    #[serde(with = "wire::opt_bytes")]
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
    #[serde(with = "wire::bytes")]
    pub classes: Vec<u8>,
}

/// Buffers as byte strings (`serialize_bytes`), which bincode writes and reads with one copy;
/// `f32`s little-endian. Decoding also takes a sequence of bytes (what serde's default
/// `Vec<u8>` encoding writes, e.g. in JSON).
pub mod wire {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a byte string")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }

    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Bytes)
    }

    /// `Vec<u8>` as one byte string.
    pub mod bytes {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            read(d)
        }
    }

    /// `Option<Vec<u8>>`, the bytes as one byte string.
    pub mod opt_bytes {
        use super::*;
        use serde::{Deserialize, Serialize};

        #[derive(Serialize, Deserialize)]
        struct Wrap(#[serde(with = "super::bytes")] Vec<u8>);

        pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            // A borrowed wrapper would avoid this copy; argmax maps are small (pools only).
            v.as_ref().map(|b| Wrap(b.clone())).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }

    /// `Vec<f32>` as one byte string, 4 little-endian bytes per value: written straight
    /// from the values' memory, read with one copy from the message (both targets are
    /// little-endian; elsewhere the bytes are swapped).
    pub mod f32s {
        use super::*;

        struct F32s;

        impl<'de> Visitor<'de> for F32s {
            type Value = Vec<f32>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte string of f32s")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<f32>, E> {
                if !v.len().is_multiple_of(4) {
                    return Err(E::custom(format!("{} bytes are not a whole number of f32s", v.len())));
                }
                let mut values: Vec<f32> = bytemuck::pod_collect_to_vec(v);
                if cfg!(target_endian = "big") {
                    values.iter_mut().for_each(|x| *x = f32::from_bits(x.to_bits().swap_bytes()));
                }
                Ok(values)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<f32>, A::Error> {
                self.visit_bytes(&Bytes.visit_seq(seq)?)
            }
        }

        pub fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
            if cfg!(target_endian = "little") {
                s.serialize_bytes(bytemuck::cast_slice(v))
            } else {
                s.serialize_bytes(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
            d.deserialize_bytes(F32s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_bincode_with_their_buffers_as_byte_strings() {
        let planes = Planes { shape: MapShape { channels: 2, height: 1, width: 3 }, values: vec![0.5, -1.25, f32::MAX, 0.0, 1e-30, -7.0] };
        let stage = StageData {
            name: "pool.0".into(),
            kind: StageKind::Pool,
            level: 1,
            planes: planes.clone(),
            argmax: Some(vec![0, 3, 2, 1, 0, 3]),
            parts: Some(DecoderPlanes {
                upsampled: planes.clone(),
                skip: None,
                fused: planes.clone(),
                weights: Box::new(DecoderWeights { up_weight: Some(vec![0.5, -2.0]), proj_bias: Some(vec![1.0]), ..DecoderWeights::default() }),
            }),
            ms: 1.5,
        };
        let messages = [
            Response::Stage { serial: 3, variant: Variant::new(skipscope_engine::Upsample::Unpool, skipscope_engine::Skip::Add), stage: stage.clone() },
            Response::Stage {
                serial: 4,
                variant: Variant::new(skipscope_engine::Upsample::Unpool, skipscope_engine::Skip::Add),
                stage: StageData { argmax: None, ..stage },
            },
            Response::Mask {
                serial: 5,
                variant: Variant::new(skipscope_engine::Upsample::Bilinear, skipscope_engine::Skip::None),
                mask: Mask { height: 1, width: 2, classes: vec![7, 0] },
                ms: 2.0,
            },
        ];
        for m in messages {
            let bytes = bincode::serialize(&m).unwrap();
            assert_eq!(bincode::deserialize::<Response>(&bytes).unwrap(), m);
        }
        // One length and the raw bytes: 6 f32s take 8 + 24 bytes.
        let bytes = bincode::serialize(&planes).unwrap();
        assert_eq!(bytes.len(), 3 * 8 + 8 + 24);
        assert_eq!(&bytes[32..36], 0.5f32.to_le_bytes());
        let request = Request::Load {
            serial: 1,
            dataset: Dataset::Camvid,
            variant: Variant::new(skipscope_engine::Upsample::Unpool, skipscope_engine::Skip::Add),
            bytes: vec![1, 2, 3],
        };
        assert_eq!(bincode::deserialize::<Request>(&bincode::serialize(&request).unwrap()).unwrap(), request);
        // A truncated f32 buffer is an error, not a panic.
        let mut bad = bincode::serialize(&Planes { shape: planes.shape, values: vec![] }).unwrap();
        bad.truncate(24);
        bad.extend_from_slice(&3u64.to_le_bytes());
        bad.extend_from_slice(&[1, 2, 3]);
        assert!(bincode::deserialize::<Planes>(&bad).is_err());
    }
}

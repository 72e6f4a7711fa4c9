//! Weights files: safetensors, one per trained variant, tensors named by path
//! (`enc.1.conv2.weight`) in the engine's layouts (see the crate docs), stored as F32 or F16.
//!
//! The safetensors `__metadata__` holds, each as a JSON string: `format` (`"skipscope"`),
//! `format_version`, `config` ([`ModelConfig`]), `classes` (names and colours),
//! `normalization` (input mean and std per channel), `recipe` and `metrics` (free-form JSON
//! written by the trainer).
//!
//! Loading checks, in order: the file structure, the metadata, that the metadata's config
//! agrees with what the tensors imply, then every tensor's name, dtype and shape. Each
//! failure is its own [`EngineError`]; no input bytes can make loading panic (tested).

use crate::error::{EngineError, Result};
use crate::model::{Model, ModelConfig, Skip, Upsample};
use crate::param::Module;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The weights format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "skipscope";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    pub name: String,
    /// Display colour, RGB.
    pub color: [u8; 3],
}

/// The model sees `(pixel / 255 - mean) / std` per channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// ImageNet statistics, a sensible default for photos.
    pub fn imagenet() -> Self {
        Self { mean: vec![0.485, 0.456, 0.406], std: vec![0.229, 0.224, 0.225] }
    }
}

/// Everything a weights file says besides its tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub config: ModelConfig,
    /// One entry per class, in class-index order.
    pub classes: Vec<ClassInfo>,
    pub normalization: Normalization,
    /// How the weights were trained (dataset, epochs, optimiser, ...).
    pub recipe: serde_json::Value,
    /// Measured metrics (G, C, mIoU, BF, ...), or `null`.
    pub metrics: serde_json::Value,
}

/// How tensors are stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    F32,
    /// Half the size; values round to 11 significant bits.
    F16,
}

/// Serialises `model` (unfolded: batch norms included) and `meta` to safetensors bytes.
pub fn save(model: &mut Model<f32>, meta: &ModelMeta, storage: Storage) -> Result<Vec<u8>> {
    if meta.config != model.config {
        return Err(EngineError::Metadata("the metadata's config differs from the model's".into()));
    }
    check_meta(meta)?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    model.visit("", &mut |name, mut t| {
        let t = t.value();
        let bytes = match storage {
            Storage::F32 => t.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Storage::F16 => t.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect(),
        };
        tensors.push((name.to_string(), t.shape().to_vec(), bytes));
    });
    let dtype = match storage {
        Storage::F32 => Dtype::F32,
        Storage::F16 => Dtype::F16,
    };
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| TensorView::new(dtype, shape.clone(), bytes).map(|v| (name.clone(), v)).map_err(|e| EngineError::Format(format!("{e:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let metadata: HashMap<String, String> = [
        ("format".to_string(), FORMAT_NAME.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("config".to_string(), json(&meta.config)),
        ("classes".to_string(), json(&meta.classes)),
        ("normalization".to_string(), json(&meta.normalization)),
        ("recipe".to_string(), json(&meta.recipe)),
        ("metrics".to_string(), json(&meta.metrics)),
    ]
    .into_iter()
    .collect();
    safetensors::tensor::serialize(views, &Some(metadata)).map_err(|e| EngineError::Format(format!("{e:?}")))
}

/// A metadata value as a JSON string.
fn json<V: Serialize>(value: &V) -> String {
    serde_json::to_string(value).expect("metadata types serialise")
}

fn check_meta(meta: &ModelMeta) -> Result<()> {
    meta.config.validate()?;
    let c = meta.config;
    if meta.classes.len() != c.n_classes {
        return Err(EngineError::Metadata(format!("{} class names for a model with {} classes", meta.classes.len(), c.n_classes)));
    }
    let n = &meta.normalization;
    if n.mean.len() != c.in_channels || n.std.len() != c.in_channels {
        return Err(EngineError::Metadata(format!("normalisation has {} means and {} stds for {} input channels", n.mean.len(), n.std.len(), c.in_channels)));
    }
    if n.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) || n.mean.iter().any(|m| !m.is_finite()) {
        return Err(EngineError::Metadata("normalisation std must be finite and positive, mean finite".into()));
    }
    Ok(())
}

fn parse_structure(bytes: &[u8]) -> Result<SafeTensors<'_>> {
    SafeTensors::deserialize(bytes).map_err(|e| EngineError::Format(format!("{e:?}")))
}

/// Reads only the metadata (still validating the file's structure).
pub fn read_meta(bytes: &[u8]) -> Result<ModelMeta> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| EngineError::Format(format!("{e:?}")))?;
    meta_from(header.metadata())
}

fn meta_from(metadata: &Option<HashMap<String, String>>) -> Result<ModelMeta> {
    let empty = HashMap::new();
    let m = metadata.as_ref().unwrap_or(&empty);
    let field = |key: &str| m.get(key).ok_or_else(|| EngineError::Metadata(format!("no `{key}` entry")));
    if field("format")? != FORMAT_NAME {
        return Err(EngineError::Metadata(format!("`format` is {:?}, expected {FORMAT_NAME:?}", field("format")?)));
    }
    let version = field("format_version")?;
    if version.trim() != FORMAT_VERSION.to_string() {
        return Err(EngineError::Version { found: version.clone(), supported: FORMAT_VERSION });
    }
    fn parse<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| EngineError::Metadata(format!("`{key}`: {e}")))
    }
    let meta = ModelMeta {
        config: parse("config", field("config")?)?,
        classes: parse("classes", field("classes")?)?,
        normalization: parse("normalization", field("normalization")?)?,
        recipe: m.get("recipe").map(|t| parse("recipe", t)).transpose()?.unwrap_or(serde_json::Value::Null),
        metrics: m.get("metrics").map(|t| parse("metrics", t)).transpose()?.unwrap_or(serde_json::Value::Null),
    };
    check_meta(&meta)?;
    Ok(meta)
}

/// Compares the metadata's config with what the tensor names and shapes imply.
fn check_config_against_tensors(config: &ModelConfig, shapes: &BTreeMap<String, Vec<usize>>) -> Result<()> {
    let mismatch = |field: &str, metadata: String, tensors: String| Err(EngineError::ConfigMismatch { field: field.into(), metadata, tensors });
    if let Some(s) = shapes.get("enc.0.conv1.weight").filter(|s| s.len() == 4) {
        if s[2] != config.in_channels {
            return mismatch("in_channels", config.in_channels.to_string(), format!("{} (enc.0.conv1.weight is {s:?})", s[2]));
        }
        if s[3] != config.width {
            return mismatch("width", config.width.to_string(), format!("{} (enc.0.conv1.weight is {s:?})", s[3]));
        }
    }
    let depth = shapes.keys().filter_map(|n| n.strip_prefix("enc.")?.split('.').next()?.parse::<usize>().ok()).collect::<BTreeSet<_>>().len();
    if depth != config.depth {
        return mismatch("depth", config.depth.to_string(), format!("{depth} encoder stages"));
    }
    if let Some(s) = shapes.get("head.weight").filter(|s| s.len() == 4) {
        if s[3] != config.n_classes {
            return mismatch("n_classes", config.n_classes.to_string(), format!("{} (head.weight is {s:?})", s[3]));
        }
    }
    let has = |part: &str| shapes.keys().any(|n| n.starts_with("dec.") && n.contains(part));
    let concat = shapes.get("dec.0.conv1.weight").is_some_and(|s| s.len() == 4 && s[2] == 2 * config.width);
    let skip = if has(".proj.") {
        Skip::Add
    } else if concat {
        Skip::Concat
    } else {
        Skip::None
    };
    if skip != config.skip {
        return mismatch("skip", config.skip.name().into(), skip.name().into());
    }
    let transposed = has(".up.");
    if transposed != (config.upsample == Upsample::Transposed) {
        let found = if transposed { "transposed (dec.*.up tensors present)" } else { "unpool or bilinear (no dec.*.up tensors)" };
        return mismatch("upsample", config.upsample.name().into(), found.into());
    }
    Ok(())
}

fn to_f32(name: &str, view: &TensorView<'_>) -> Result<Vec<f32>> {
    let data = view.data();
    match view.dtype() {
        Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        Dtype::F16 => Ok(data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
        other => Err(EngineError::TensorDtype { name: name.into(), found: format!("{other:?}") }),
    }
}

/// Parses a weights file into an (unfolded) model and its metadata.
pub fn load(bytes: &[u8]) -> Result<(Model<f32>, ModelMeta)> {
    let file = parse_structure(bytes)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| EngineError::Format(format!("{e:?}")))?;
    let meta = meta_from(header.metadata())?;
    let shapes: BTreeMap<String, Vec<usize>> = file.tensors().into_iter().map(|(n, v)| (n, v.shape().to_vec())).collect();
    check_config_against_tensors(&meta.config, &shapes)?;
    let mut model = Model::zeroed(meta.config)?;
    let mut used = BTreeSet::new();
    let mut failure: Option<EngineError> = None;
    model.visit("", &mut |name, mut t| {
        let t = t.value();
        if failure.is_some() {
            return;
        }
        let result = (|| {
            let view = file.tensor(name).map_err(|_| EngineError::MissingTensor { name: name.into(), expected: t.shape().to_vec() })?;
            if view.shape() != t.shape() {
                return Err(EngineError::TensorShape { name: name.into(), expected: t.shape().to_vec(), found: view.shape().to_vec() });
            }
            let values = to_f32(name, &view)?;
            if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
                return Err(EngineError::NonFinite { name: name.into(), index: bad });
            }
            if name.ends_with("running_var") {
                if let Some(bad) = values.iter().position(|v| *v < 0.0) {
                    return Err(EngineError::NegativeVariance { name: name.into(), index: bad });
                }
            }
            for (dst, src) in t.iter_mut().zip(values) {
                *dst = src;
            }
            used.insert(name.to_string());
            Ok(())
        })();
        if let Err(e) = result {
            failure = Some(e);
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(extra) = shapes.keys().find(|n| !used.contains(*n)) {
        return Err(EngineError::UnexpectedTensor { name: extra.clone() });
    }
    Ok((model, meta))
}

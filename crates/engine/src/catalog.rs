//! What the trainer publishes and the page reads: the datasets' class lists and
//! `www/models/manifest.json`, the list of published models.

use crate::error::{EngineError, Result};
use crate::metrics::Scores;
use crate::weights::{ClassInfo, ModelMeta};
use crate::{Skip, Upsample, Variant};
use serde::{Deserialize, Serialize};

/// The manifest format this build writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// CamVid's void label (ignored in the loss and the metrics).
pub const CAMVID_VOID: u8 = 11;

/// CamVid's 11 classes (SegNet's split) with the colours of the dataset's usual palette.
pub fn camvid_classes() -> Vec<ClassInfo> {
    [
        ("Sky", [128, 128, 128]),
        ("Building", [128, 0, 0]),
        ("Pole", [192, 192, 128]),
        ("Road", [128, 64, 128]),
        ("Pavement", [60, 40, 222]),
        ("Tree", [128, 128, 0]),
        ("SignSymbol", [192, 128, 128]),
        ("Fence", [64, 64, 128]),
        ("Car", [64, 0, 128]),
        ("Pedestrian", [64, 64, 0]),
        ("Bicyclist", [0, 128, 192]),
    ]
    .into_iter()
    .map(|(name, color)| ClassInfo { name: name.into(), color })
    .collect()
}

/// The four classes the people model learns from CCP's 59 labels.
pub fn ccp_classes() -> Vec<ClassInfo> {
    [("Background", [40, 40, 40]), ("Skin", [250, 190, 150]), ("Hair", [120, 60, 20]), ("Clothes", [60, 120, 220])]
        .into_iter()
        .map(|(name, color)| ClassInfo { name: name.into(), color })
        .collect()
}

/// The datasets the project trains on (names are the manifest's `dataset` values), and
/// [`Dataset::Own`]: the models a user opens in the page, whose classes, working size and
/// scores come from their files. `ALL` and parsing know only the published two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// CamVid street scenes: 11 classes plus void, 360x480.
    Camvid,
    /// CCP people: background, skin, hair, clothes; 550 px wide full-body portraits.
    Ccp,
    /// A user's own model of the family, opened from a file (one per variant).
    Own,
}

crate::model::named_enum!(Dataset, "dataset");

impl Dataset {
    pub const ALL: [Dataset; 2] = [Dataset::Camvid, Dataset::Ccp];

    /// `camvid` or `ccp`.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Camvid => "camvid",
            Dataset::Ccp => "ccp",
            Dataset::Own => "own",
        }
    }

    /// What its models segment, for people.
    pub fn title(self) -> &'static str {
        match self {
            Dataset::Camvid => "Street scenes (CamVid)",
            Dataset::Ccp => "People (CCP)",
            Dataset::Own => "Your model",
        }
    }

    /// Its classes (none for [`Dataset::Own`]: each file names its own).
    pub fn classes(self) -> Vec<ClassInfo> {
        match self {
            Dataset::Camvid => camvid_classes(),
            Dataset::Ccp => ccp_classes(),
            Dataset::Own => Vec::new(),
        }
    }

    /// The label value that marks unlabelled pixels, if the dataset has one.
    pub fn void_label(self) -> Option<u8> {
        match self {
            Dataset::Camvid => Some(CAMVID_VOID),
            Dataset::Ccp | Dataset::Own => None,
        }
    }

    /// `[height, width]` its models are trained at: about CamVid's 360x480 halved, and
    /// CCP's portraits (about 830x550) at a third; for an own model whose recipe does not
    /// say, a square of 256.
    pub fn working_size(self) -> [usize; 2] {
        match self {
            Dataset::Camvid => [192, 256],
            Dataset::Ccp => [256, 176],
            Dataset::Own => [256, 256],
        }
    }
}

/// The limits of a model the page opens from a user's file: depth, width and classes.
pub const OWN_DEPTH: std::ops::RangeInclusive<usize> = 2..=5;
pub const OWN_MAX_WIDTH: usize = 64;
pub const OWN_CLASSES: std::ops::RangeInclusive<usize> = 2..=64;
/// The largest weights file the page reads: above the float32 file of the largest model
/// within those limits (tested), so a larger file is refused before it is read.
pub const OWN_MAX_BYTES: f64 = 128.0 * 1024.0 * 1024.0;

/// The `[height, width]` a weights file's recipe names (both trainers write them), if any.
pub fn recipe_size(meta: &ModelMeta) -> Option<[usize; 2]> {
    let side = |k: &str| meta.recipe.get(k).and_then(|v| v.as_u64()).map(|v| v as usize).filter(|v| (16..=2048).contains(v));
    Some([side("height")?, side("width")?])
}

/// What a weights file's `metrics` say, in a line: the test scores the engine's trainer
/// writes (`test.miou`, `test.bf`), else the validation scores of `skipscope_torch`
/// (`val.miou`); none if it has neither.
pub fn scores_line(meta: &ModelMeta) -> Option<String> {
    let pct = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64()).map(|x| format!("{:.1}%", 100.0 * x));
    for (split, name) in [("test", "test"), ("val", "validation")] {
        if let Some(miou) = meta.metrics.get(split).and_then(|s| pct(s, "miou")) {
            let bf = meta.metrics.get(split).and_then(|s| pct(s, "bf")).map(|bf| format!(", BF {bf}")).unwrap_or_default();
            return Some(format!("{name} mIoU {miou}{bf}"));
        }
    }
    None
}

/// Checks that the weights described by `meta` are `variant` of `dataset`'s models: that
/// variant, RGB input, the dataset's number of classes and, where the recipe names the
/// dataset it was trained on, that one; for [`Dataset::Own`], the limits the page opens
/// ([`OWN_DEPTH`], [`OWN_MAX_WIDTH`], [`OWN_CLASSES`]). The one check for "these weights suit
/// this dataset", used by the page when it loads weights and by the trainer when it
/// evaluates them.
pub fn check_suits(dataset: Dataset, variant: Variant, meta: &ModelMeta) -> Result<()> {
    let c = &meta.config;
    let unsuited = |why: String| Err(EngineError::Unsuited(format!("the weights file for {dataset}-{variant} {why}")));
    if c.variant() != variant || c.in_channels != 3 {
        return unsuited(format!("holds a {} model with {} input channels", c.variant(), c.in_channels));
    }
    if dataset == Dataset::Own {
        let why = if !OWN_DEPTH.contains(&c.depth) {
            format!("has depth {}; the page opens depths {} to {}", c.depth, OWN_DEPTH.start(), OWN_DEPTH.end())
        } else if c.width > OWN_MAX_WIDTH {
            format!("has width {}; the page opens widths up to {OWN_MAX_WIDTH}", c.width)
        } else if !OWN_CLASSES.contains(&c.n_classes) {
            format!("has {} classes; the page opens {} to {}", c.n_classes, OWN_CLASSES.start(), OWN_CLASSES.end())
        } else {
            return Ok(());
        };
        return unsuited(why);
    }
    if let Some(trained_on) = meta.recipe.get("dataset").and_then(|d| d.as_str()).filter(|d| *d != dataset.name()) {
        return unsuited(format!("was trained on {trained_on}, not {dataset}"));
    }
    let expected = dataset.classes().len();
    if c.n_classes != expected || meta.classes.len() != expected {
        return unsuited(format!("has {} classes; {} models have {expected}", c.n_classes, dataset.title()));
    }
    Ok(())
}

/// `www/models/manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub models: Vec<ManifestEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `dataset-upsample-skip`, e.g. `camvid-transposed-add`.
    pub id: String,
    pub dataset: Dataset,
    pub upsample: Upsample,
    pub skip: Skip,
    /// The weights file, relative to the manifest's folder.
    pub file: String,
    /// The weights file's length and SHA-256 (lowercase hex): a download is taken only if
    /// it has both ([`ManifestEntry::verify`]). Older manifests have no hash; `skipscope
    /// hash` writes both for every listed file.
    pub bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub parameters: usize,
    /// `[height, width]` the model was trained at and runs at.
    pub working_size: [usize; 2],
    pub epochs: usize,
    pub train_seconds: f64,
    /// Test-set scores at full resolution (fractions).
    pub test: Scores,
}

/// The SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl ManifestEntry {
    /// Checks that `bytes` are this entry's weights file: its length, then its SHA-256 (when
    /// the manifest lists one). The error is a sentence for the user.
    pub fn verify(&self, bytes: &[u8]) -> std::result::Result<(), String> {
        self.verify_with(bytes, sha256_hex)
    }

    /// [`ManifestEntry::verify`] with the SHA-256 (lowercase hex) computed by `sha256`, which
    /// is called only when the length is right and the manifest lists a hash (the page
    /// passes the browser's native digest, equal to [`sha256_hex`]; tested in Chromium).
    pub fn verify_with(&self, bytes: &[u8], sha256: impl FnOnce(&[u8]) -> String) -> std::result::Result<(), String> {
        if bytes.len() != self.bytes {
            return Err(format!("{} arrived with {} bytes instead of {} (the download was cut short or damaged)", self.file, bytes.len(), self.bytes));
        }
        match &self.sha256 {
            Some(want) if !want.eq_ignore_ascii_case(&sha256(bytes)) => Err(format!("{} arrived damaged: its SHA-256 is not the manifest's", self.file)),
            _ => Ok(()),
        }
    }
}

impl Manifest {
    pub fn new() -> Self {
        Self { format_version: MANIFEST_VERSION, models: Vec::new() }
    }

    /// Parses a manifest, refusing other format versions.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| EngineError::Metadata(format!("models/manifest.json is not valid: {e}")))?;
        if m.format_version != MANIFEST_VERSION {
            return Err(EngineError::Version { found: m.format_version.to_string(), supported: MANIFEST_VERSION });
        }
        Ok(m)
    }

    /// Adds `entry`, replacing any entry with the same id; keeps the list sorted by id.
    pub fn upsert(&mut self, entry: ManifestEntry) {
        self.models.retain(|m| m.id != entry.id);
        self.models.push(entry);
        self.models.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

impl Default for Manifest {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, miou: f64) -> ManifestEntry {
        let test = Scores { g: 0.5, c: 0.5, miou, bf: None, iou: vec![], pixels: 1, images: 1 };
        ManifestEntry {
            id: id.into(),
            dataset: Dataset::Camvid,
            upsample: Upsample::Transposed,
            skip: Skip::Add,
            file: format!("{id}.safetensors"),
            bytes: 1,
            sha256: None,
            parameters: 1,
            working_size: [192, 256],
            epochs: 1,
            train_seconds: 1.0,
            test,
        }
    }

    #[test]
    fn upsert_replaces_by_id_and_keeps_the_list_sorted() {
        let mut m = Manifest::new();
        m.upsert(entry("camvid-unpool-add", 0.1));
        m.upsert(entry("camvid-bilinear-add", 0.2));
        m.upsert(entry("camvid-unpool-add", 0.3));
        let ids: Vec<&str> = m.models.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["camvid-bilinear-add", "camvid-unpool-add"]);
        assert_eq!(m.models[1].test.miou, 0.3);
        let parsed = Manifest::parse(serde_json::to_string(&m).unwrap().as_bytes()).unwrap();
        assert_eq!(parsed, m);
    }

    #[test]
    fn dataset_names_round_trip_and_class_lists_match() {
        for d in Dataset::ALL {
            assert_eq!(d.name().parse::<Dataset>().unwrap(), d);
            assert_eq!(d.to_string(), d.name());
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{}\"", d.name()));
        }
        assert!("cityscapes".parse::<Dataset>().unwrap_err().to_string().contains("camvid, ccp"));
        assert_eq!(Dataset::Camvid.classes().len(), 11);
        assert_eq!(Dataset::Ccp.classes().len(), 4);
        assert_eq!(Dataset::Camvid.void_label(), Some(CAMVID_VOID));
    }

    #[test]
    fn the_published_manifest_parses_with_typed_datasets() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/models/manifest.json");
        let text = std::fs::read(path).unwrap();
        let m = Manifest::parse(&text).unwrap();
        assert!(!m.models.is_empty());
        for e in &m.models {
            assert_eq!(e.id, format!("{}-{}", e.dataset, Variant::new(e.upsample, e.skip)), "the id names dataset and variant");
        }
        assert!(m.models.iter().any(|e| e.dataset == Dataset::Ccp) && m.models.iter().any(|e| e.dataset == Dataset::Camvid));
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["models"][0]["dataset"], m.models[0].dataset.name(), "serialised as the lowercase name");
    }

    #[test]
    fn check_suits_names_what_does_not_fit() {
        use crate::weights::Normalization;
        use crate::ModelConfig;
        let variant: Variant = "transposed-add".parse().unwrap();
        let meta = |dataset: Dataset, n_classes: usize, recipe: serde_json::Value| ModelMeta {
            config: ModelConfig { in_channels: 3, n_classes, depth: 2, width: 4, upsample: variant.upsample, skip: variant.skip },
            classes: dataset.classes().into_iter().cycle().take(n_classes).collect(),
            normalization: Normalization::imagenet(),
            recipe,
            metrics: serde_json::Value::Null,
        };
        let camvid = meta(Dataset::Camvid, 11, serde_json::json!({ "dataset": "camvid" }));
        check_suits(Dataset::Camvid, variant, &camvid).unwrap();
        check_suits(Dataset::Camvid, variant, &meta(Dataset::Camvid, 11, serde_json::Value::Null)).unwrap();
        let err = |dataset, variant, meta: &ModelMeta| match check_suits(dataset, variant, meta) {
            Err(EngineError::Unsuited(message)) => message,
            other => panic!("expected Unsuited, got {other:?}"),
        };
        assert_eq!(
            err(Dataset::Camvid, variant.with_skip(Skip::None), &camvid),
            "the weights file for camvid-transposed-none holds a transposed-add model with 3 input channels"
        );
        assert_eq!(err(Dataset::Ccp, variant, &camvid), "the weights file for ccp-transposed-add was trained on camvid, not ccp");
        assert_eq!(
            err(Dataset::Ccp, variant, &meta(Dataset::Camvid, 11, serde_json::Value::Null)),
            "the weights file for ccp-transposed-add has 11 classes; People (CCP) models have 4"
        );
        let mut grey = camvid.clone();
        grey.config.in_channels = 1;
        assert!(err(Dataset::Camvid, variant, &grey).contains("1 input channels"));
        // An own model may come from any dataset, within the page's limits.
        check_suits(Dataset::Own, variant, &camvid).unwrap();
        let mut deep = camvid.clone();
        deep.config.depth = 6;
        assert_eq!(err(Dataset::Own, variant, &deep), "the weights file for own-transposed-add has depth 6; the page opens depths 2 to 5");
        let mut wide = camvid.clone();
        wide.config.width = 65;
        assert!(err(Dataset::Own, variant, &wide).contains("width 65; the page opens widths up to 64"));
        let mut one = camvid;
        one.config.n_classes = 1;
        assert!(err(Dataset::Own, variant, &one).contains("has 1 classes; the page opens 2 to 64"));
    }

    #[test]
    fn every_model_within_the_own_limits_fits_in_own_max_bytes() {
        use crate::weights::{self, Normalization, Storage};
        use crate::{Model, ModelConfig};
        for depth in OWN_DEPTH {
            // The widest of each depth, with the most parameters: transposed and concat.
            let width = OWN_MAX_WIDTH.min(1024 >> depth);
            let n_classes = *OWN_CLASSES.end();
            let config = ModelConfig { in_channels: 3, n_classes, depth, width, upsample: Upsample::Transposed, skip: Skip::Concat };
            let mut model = Model::<f32>::new(config, 1).unwrap();
            let classes = (0..n_classes).map(|i| ClassInfo { name: format!("class {i}"), color: [0, 0, 0] }).collect();
            let meta =
                ModelMeta { config, classes, normalization: Normalization::imagenet(), recipe: serde_json::Value::Null, metrics: serde_json::Value::Null };
            let bytes = weights::save(&mut model, &meta, Storage::F32).unwrap().len();
            assert!((bytes as f64) < OWN_MAX_BYTES, "depth {depth} width {width}: {bytes} bytes");
            println!("depth {depth} width {width}: {bytes} bytes");
        }
    }

    #[test]
    fn recipe_size_and_scores_line_read_both_trainers_metadata() {
        use crate::weights::Normalization;
        use crate::ModelConfig;
        let meta = |recipe: serde_json::Value, metrics: serde_json::Value| ModelMeta {
            config: ModelConfig { in_channels: 3, n_classes: 2, depth: 2, width: 4, upsample: Upsample::Bilinear, skip: Skip::Add },
            classes: vec![],
            normalization: Normalization::imagenet(),
            recipe,
            metrics,
        };
        let engine = meta(serde_json::json!({ "height": 256, "width": 176 }), serde_json::json!({ "test": { "miou": 0.637, "bf": 0.5421 } }));
        assert_eq!(recipe_size(&engine), Some([256, 176]));
        assert_eq!(scores_line(&engine).as_deref(), Some("test mIoU 63.7%, BF 54.2%"));
        let torch = meta(serde_json::json!({ "height": 32 }), serde_json::json!({ "val": { "miou": 0.5 } }));
        assert_eq!(recipe_size(&torch), None, "both sides or none");
        assert_eq!(scores_line(&torch).as_deref(), Some("validation mIoU 50.0%"));
        assert_eq!(scores_line(&meta(serde_json::Value::Null, serde_json::Value::Null)), None);
    }

    #[test]
    fn other_manifest_versions_are_refused() {
        let err = Manifest::parse(br#"{"format_version": 2, "models": []}"#).unwrap_err();
        assert!(matches!(err, EngineError::Version { .. }), "{err}");
        assert!(Manifest::parse(b"not json").is_err());
    }

    #[test]
    fn downloads_are_verified_by_length_and_sha256() {
        let mut e = entry("camvid-unpool-add", 0.1);
        let bytes = b"abc".to_vec();
        assert_eq!(sha256_hex(&bytes), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        e.bytes = 3;
        assert_eq!(e.verify(&bytes), Ok(()), "no hash listed: the length is checked");
        e.sha256 = Some(sha256_hex(&bytes));
        assert_eq!(e.verify(&bytes), Ok(()));
        assert!(e.verify(b"ab").unwrap_err().contains("2 bytes instead of 3"));
        assert!(e.verify(b"abd").unwrap_err().contains("SHA-256"));
        // Old manifests (no sha256) parse; new ones write it.
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"sha256\":\"ba78"));
        let old: ManifestEntry = serde_json::from_str(&json.replace(&format!(",\"sha256\":\"{}\"", sha256_hex(&bytes)), "")).unwrap();
        assert_eq!(old.sha256, None);
    }
}

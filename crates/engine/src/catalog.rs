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

/// The datasets the project trains on. Names are the manifest's `dataset` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// CamVid street scenes: 11 classes plus void, 360x480.
    Camvid,
    /// CCP people: background, skin, hair, clothes; 550 px wide full-body portraits.
    Ccp,
}

crate::model::named_enum!(Dataset, "dataset");

impl Dataset {
    pub const ALL: [Dataset; 2] = [Dataset::Camvid, Dataset::Ccp];

    /// `camvid` or `ccp`.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Camvid => "camvid",
            Dataset::Ccp => "ccp",
        }
    }

    /// What its models segment, for people.
    pub fn title(self) -> &'static str {
        match self {
            Dataset::Camvid => "Street scenes (CamVid)",
            Dataset::Ccp => "People (CCP)",
        }
    }

    pub fn classes(self) -> Vec<ClassInfo> {
        match self {
            Dataset::Camvid => camvid_classes(),
            Dataset::Ccp => ccp_classes(),
        }
    }

    /// The label value that marks unlabelled pixels, if the dataset has one.
    pub fn void_label(self) -> Option<u8> {
        match self {
            Dataset::Camvid => Some(CAMVID_VOID),
            Dataset::Ccp => None,
        }
    }

    /// `[height, width]` its models are trained at: about CamVid's 360x480 halved, and
    /// CCP's portraits (about 830x550) at a third.
    pub fn working_size(self) -> [usize; 2] {
        match self {
            Dataset::Camvid => [192, 256],
            Dataset::Ccp => [256, 176],
        }
    }
}

/// Checks that the weights described by `meta` are `variant` of `dataset`'s models: that
/// variant, RGB input, the dataset's number of classes and, where the recipe names the
/// dataset it was trained on, that one. The one check for "these weights suit this dataset",
/// used by the page when it loads weights and by the trainer when it evaluates them.
pub fn check_suits(dataset: Dataset, variant: Variant, meta: &ModelMeta) -> Result<()> {
    let c = &meta.config;
    let unsuited = |why: String| Err(EngineError::Unsuited(format!("the weights file for {dataset}-{variant} {why}")));
    if c.variant() != variant || c.in_channels != 3 {
        return unsuited(format!("holds a {} model with {} input channels", c.variant(), c.in_channels));
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
        if bytes.len() != self.bytes {
            return Err(format!("{} arrived with {} bytes instead of {} (the download was cut short or damaged)", self.file, bytes.len(), self.bytes));
        }
        match &self.sha256 {
            Some(want) if !want.eq_ignore_ascii_case(&sha256_hex(bytes)) => Err(format!("{} arrived damaged: its SHA-256 is not the manifest's", self.file)),
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

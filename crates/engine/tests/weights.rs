//! Weights files: round trips, one error per kind of bad file, and no panic on any bytes.

use ndarray::Array4;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use skipscope_engine::model::Workspace;
use skipscope_engine::param::{Module, TensorRole};
use skipscope_engine::rng::Rng;
use skipscope_engine::weights::{self, ClassInfo, ModelMeta, Normalization, Storage};
use skipscope_engine::{EngineError, Model, ModelConfig, Skip, Upsample};
use std::collections::HashMap;

fn config(upsample: Upsample, skip: Skip) -> ModelConfig {
    ModelConfig { in_channels: 3, n_classes: 4, depth: 2, width: 4, upsample, skip }
}

fn meta(config: ModelConfig) -> ModelMeta {
    ModelMeta {
        config,
        classes: (0..config.n_classes).map(|i| ClassInfo { name: format!("class {i}"), color: [i as u8 * 60, 10, 200] }).collect(),
        normalization: Normalization::imagenet(),
        recipe: serde_json::json!({"note": "test"}),
        metrics: serde_json::Value::Null,
    }
}

/// A saved model with non-trivial batch-norm statistics.
fn saved(config: ModelConfig, storage: Storage) -> (Model<f32>, Vec<u8>) {
    let mut model = Model::<f32>::new(config, 3).unwrap();
    let mut rng = Rng::new(1);
    model.visit("", &mut |name, mut t| {
        let t = t.value();
        if name.ends_with("running_var") {
            t.mapv_inplace(|_| 0.5 + rng.uniform() as f32);
        } else if name.contains(".bn") {
            t.mapv_inplace(|v| v + 0.1 * rng.normal() as f32);
        }
    });
    let bytes = weights::save(&mut model, &meta(config), storage).unwrap();
    (model, bytes)
}

type Tensors = Vec<(String, Vec<usize>, Vec<u8>)>;

/// Decodes a file, lets `edit` change its tensors and metadata, and encodes it again.
fn rewrite(bytes: &[u8], edit: impl FnOnce(&mut Tensors, &mut HashMap<String, String>)) -> Vec<u8> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap();
    let mut tensors: Tensors = file.tensors().into_iter().map(|(n, v)| (n, v.shape().to_vec(), v.data().to_vec())).collect();
    edit(&mut tensors, &mut metadata);
    let views: Vec<_> = tensors.iter().map(|(n, s, d)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), d).unwrap())).collect();
    safetensors::tensor::serialize(views, &Some(metadata)).unwrap()
}

fn scores(model: &Model<f32>) -> Array4<f32> {
    let x = Array4::from_shape_fn((1, 8, 8, 3), |(_, i, j, c)| ((i * 3 + j + c) % 5) as f32 / 5.0);
    model.infer(x.view(), &mut Workspace::new()).unwrap().to_owned()
}

#[test]
fn f32_round_trip_is_exact_for_every_variant() {
    for upsample in Upsample::ALL {
        for skip in Skip::ALL {
            let (original, bytes) = saved(config(upsample, skip), Storage::F32);
            let (loaded, m) = weights::load(&bytes).unwrap();
            assert_eq!(m, meta(config(upsample, skip)));
            assert_eq!(scores(&loaded), scores(&original));
            assert_eq!(weights::read_meta(&bytes).unwrap(), m);
        }
    }
}

#[test]
fn f16_round_trip_is_close_and_half_the_size() {
    let c = config(Upsample::Transposed, Skip::Concat);
    let (original, bytes32) = saved(c, Storage::F32);
    let (_, bytes16) = saved(c, Storage::F16);
    assert!(bytes16.len() * 10 < bytes32.len() * 6, "{} vs {}", bytes16.len(), bytes32.len());
    let (loaded, _) = weights::load(&bytes16).unwrap();
    let (a, b) = (scores(&original), scores(&loaded));
    let scale = a.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = (&a - &b).iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(err / scale < 1e-2, "f16 error {err} on scale {scale}");
}

#[test]
fn truncated_file_is_a_format_error() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::Add), Storage::F32);
    for cut in [0, 7, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = weights::load(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, EngineError::Format(_)), "cut at {cut}: {err}");
    }
}

#[test]
fn wrong_tensor_name_names_the_missing_tensor() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::Add), Storage::F32);
    let bad = rewrite(&bytes, |t, _| {
        let entry = t.iter_mut().find(|e| e.0 == "enc.1.conv2.weight").unwrap();
        entry.0 = "enc.1.conv2.weights".into();
    });
    let err = weights::load(&bad).unwrap_err();
    assert_eq!(err, EngineError::MissingTensor { name: "enc.1.conv2.weight".into(), expected: vec![3, 3, 8, 8] });
    assert_eq!(err.to_string(), "the weights file has no tensor `enc.1.conv2.weight` (expected shape [3, 3, 8, 8])");
}

#[test]
fn extra_tensor_is_an_error() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::None), Storage::F32);
    let bad = rewrite(&bytes, |t, _| t.push(("extra.weight".into(), vec![2], vec![0; 8])));
    assert_eq!(weights::load(&bad).unwrap_err(), EngineError::UnexpectedTensor { name: "extra.weight".into() });
}

#[test]
fn wrong_shape_names_expected_and_found() {
    let (_, bytes) = saved(config(Upsample::Bilinear, Skip::None), Storage::F32);
    let bad = rewrite(&bytes, |t, _| {
        let entry = t.iter_mut().find(|e| e.0 == "bottleneck.conv1.weight").unwrap();
        entry.1 = vec![3, 3, 16, 8];
    });
    let err = weights::load(&bad).unwrap_err();
    assert_eq!(err, EngineError::TensorShape { name: "bottleneck.conv1.weight".into(), expected: vec![3, 3, 8, 16], found: vec![3, 3, 16, 8] });
}

#[test]
fn config_that_does_not_match_the_tensors_is_named() {
    let (_, bytes) = saved(config(Upsample::Transposed, Skip::Add), Storage::F32);
    let cases: [(&str, ModelConfig); 4] = [
        ("width", ModelConfig { width: 8, ..config(Upsample::Transposed, Skip::Add) }),
        ("skip", config(Upsample::Transposed, Skip::Concat)),
        ("upsample", config(Upsample::Unpool, Skip::Add)),
        ("n_classes", ModelConfig { n_classes: 5, ..config(Upsample::Transposed, Skip::Add) }),
    ];
    for (field, wrong) in cases {
        let bad = rewrite(&bytes, |_, m| {
            m.insert("config".into(), serde_json::to_string(&wrong).unwrap());
            m.insert("classes".into(), serde_json::to_string(&meta(wrong).classes).unwrap());
        });
        match weights::load(&bad).unwrap_err() {
            EngineError::ConfigMismatch { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: expected a config mismatch, got {other}"),
        }
    }
}

#[test]
fn class_list_that_does_not_match_the_class_count_is_an_error() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::None), Storage::F32);
    let bad = rewrite(&bytes, |_, m| {
        m.insert("classes".into(), r#"[{"name":"only one","color":[0,0,0]}]"#.into());
    });
    let err = weights::load(&bad).unwrap_err();
    assert_eq!(err, EngineError::Metadata("1 class names for a model with 4 classes".into()));
}

#[test]
fn unsupported_version_and_missing_metadata_are_errors() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::None), Storage::F32);
    let future = rewrite(&bytes, |_, m| {
        m.insert("format_version".into(), "99".into());
    });
    assert!(matches!(weights::load(&future).unwrap_err(), EngineError::Version { .. }));
    let bare = rewrite(&bytes, |_, m| {
        m.remove("config");
    });
    assert_eq!(weights::load(&bare).unwrap_err(), EngineError::Metadata("no `config` entry".into()));
}

#[test]
fn negative_running_variance_is_an_error() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::None), Storage::F32);
    let bad = rewrite(&bytes, |t, _| {
        let entry = t.iter_mut().find(|e| e.0 == "enc.0.bn1.running_var").unwrap();
        entry.2[4..8].copy_from_slice(&(-1.0f32).to_le_bytes());
    });
    assert_eq!(weights::load(&bad).unwrap_err(), EngineError::NegativeVariance { name: "enc.0.bn1.running_var".into(), index: 1 });
}

#[test]
fn non_finite_weight_is_an_error() {
    let (_, bytes) = saved(config(Upsample::Unpool, Skip::None), Storage::F32);
    let bad = rewrite(&bytes, |t, _| {
        let entry = t.iter_mut().find(|e| e.0 == "head.bias").unwrap();
        entry.2[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    assert_eq!(weights::load(&bad).unwrap_err(), EngineError::NonFinite { name: "head.bias".into(), index: 0 });
}

/// Random files, every truncation of the header region, and random byte edits of a valid
/// file: loading returns `Ok` or `Err`, never panics.
#[test]
fn no_bytes_make_loading_panic() {
    let (_, bytes) = saved(config(Upsample::Transposed, Skip::Concat), Storage::F16);
    let mut rng = Rng::new(99);
    let mut outcomes = [0usize; 2];
    let mut record = |r: Result<_, EngineError>| outcomes[r.is_ok() as usize] += 1;
    for len in [0, 1, 8, 9, 64, 1000] {
        for _ in 0..50 {
            let random: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            record(weights::load(&random).map(|_| ()));
        }
    }
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for cut in (0..header_end + 16).step_by(3) {
        record(weights::load(&bytes[..cut]).map(|_| ()));
    }
    for round in 0..3000 {
        let mut mutated = bytes.clone();
        let edits = 1 + round % 4;
        for _ in 0..edits {
            // Half the edits hit the header, where the structure lives.
            let at = if rng.below(2) == 0 { rng.below(header_end) } else { rng.below(mutated.len()) };
            mutated[at] = rng.below(256) as u8;
        }
        record(weights::load(&mutated).map(|_| ()));
        record(weights::read_meta(&mutated).map(|_| ()));
    }
    assert!(outcomes[0] > 1000 && outcomes[1] > 100, "both outcomes occur: {outcomes:?}");
}

#[test]
fn every_published_model_loads_suits_its_entry_and_counts_its_parameters() {
    use skipscope_engine::catalog::{self, Manifest};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let manifest = Manifest::parse(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let files: std::collections::BTreeSet<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|name| name.ends_with(".safetensors")).collect();
    let listed: std::collections::BTreeSet<String> = manifest.models.iter().map(|e| e.file.clone()).collect();
    assert_eq!(listed, files, "manifest.json lists exactly the weights files in www/models");
    assert_eq!(manifest.models.iter().filter(|e| e.dataset == catalog::Dataset::Camvid).count(), 9, "all nine CamVid variants");
    for entry in &manifest.models {
        let bytes = std::fs::read(dir.join(&entry.file)).unwrap();
        assert_eq!(bytes.len(), entry.bytes, "{}", entry.id);
        assert!(entry.sha256.is_some(), "{}: no sha256 in manifest.json (run `skipscope hash`)", entry.id);
        entry.verify(&bytes).unwrap_or_else(|e| panic!("{}: {e} (run `skipscope hash`)", entry.id));
        let (mut model, meta) = weights::load(&bytes).unwrap_or_else(|e| panic!("{}: {e}", entry.id));
        let variant = skipscope_engine::Variant::new(entry.upsample, entry.skip);
        catalog::check_suits(entry.dataset, variant, &meta).unwrap();
        assert_eq!(model.parameter_count(), entry.parameters, "{}: the count export recorded", entry.id);
        // Saved again, the file holds the same tensors under the same names.
        let again = weights::save(&mut model, &meta, Storage::F16).unwrap();
        let (a, b) = (SafeTensors::deserialize(&bytes).unwrap(), SafeTensors::deserialize(&again).unwrap());
        let mut names = a.names();
        names.sort();
        let mut names_again = b.names();
        names_again.sort();
        assert_eq!(names, names_again, "{}", entry.id);
        for name in names {
            assert_eq!(a.tensor(name).unwrap().data(), b.tensor(name).unwrap().data(), "{}: {name}", entry.id);
        }
    }
}

#[test]
fn tensor_names_and_order_are_the_weights_format() {
    let config = |upsample, skip| ModelConfig { in_channels: 3, n_classes: 2, depth: 1, width: 2, upsample, skip };
    let names = |config| {
        let mut model = Model::<f32>::new(config, 1).unwrap();
        let mut names = Vec::new();
        model.visit("", &mut |name, t| names.push(format!("{name}{}", if t.role() == TensorRole::Buffer { " (buffer)" } else { "" })));
        names
    };
    let block = |prefix: &str| -> Vec<String> {
        ["1", "2"]
            .iter()
            .flat_map(|i| {
                ["weight", "bias"]
                    .map(|t| format!("{prefix}.conv{i}.{t}"))
                    .into_iter()
                    .chain(["weight", "bias", "running_mean (buffer)", "running_var (buffer)"].map(|t| format!("{prefix}.bn{i}.{t}")))
            })
            .collect()
    };
    let expected = |middle: &[&str]| -> Vec<String> {
        let mut all = block("enc.0");
        all.extend(block("bottleneck"));
        all.extend(middle.iter().map(|s| s.to_string()));
        all.extend(block("dec.0"));
        all.extend(["head.weight".to_string(), "head.bias".to_string()]);
        all
    };
    assert_eq!(names(config(Upsample::Transposed, Skip::Add)), expected(&["dec.0.up.weight", "dec.0.up.bias", "dec.0.proj.weight", "dec.0.proj.bias"]));
    assert_eq!(names(config(Upsample::Transposed, Skip::Concat)), expected(&["dec.0.up.weight", "dec.0.up.bias"]));
    assert_eq!(names(config(Upsample::Unpool, Skip::Add)), expected(&["dec.0.proj.weight", "dec.0.proj.bias"]));
    assert_eq!(names(config(Upsample::Bilinear, Skip::None)), expected(&[]));
}

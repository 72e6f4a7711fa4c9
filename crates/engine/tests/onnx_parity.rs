//! The engine against ONNX Runtime: every published model, exported to ONNX by
//! `python/onnx_export.py` and run by onnxruntime on one input, gives the scores in
//! `fixtures/onnx/` (written by `python/onnx_parity_fixtures.py`). The engine, reading the
//! same weights file with its batch norms folded as in the page, must agree within 1e-4.

use ndarray::Array4;
use skipscope_engine::model::Workspace;
use skipscope_engine::weights;
use std::path::{Path, PathBuf};

/// Largest difference allowed, absolute below 1 and relative above.
const TOLERANCE: f32 = 1e-4;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Little-endian float32 values of a fixture file.
fn floats(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(repo().join("crates/engine/tests/fixtures/onnx").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// `[C, H, W]` channel-major values as an NHWC `[1, H, W, C]` array.
fn nhwc(chw: &[f32], c: usize, h: usize, w: usize) -> Array4<f32> {
    Array4::from_shape_fn((1, h, w, c), |(_, y, x, ch)| chw[(ch * h + y) * w + x])
}

#[test]
fn every_published_model_matches_onnx_runtime() {
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(repo().join("crates/engine/tests/fixtures/onnx/index.json")).unwrap()).unwrap();
    let (h, w) = (index["height"].as_u64().unwrap() as usize, index["width"].as_u64().unwrap() as usize);
    let x = nhwc(&floats("input.f32"), 3, h, w);
    let models = index["models"].as_array().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(repo().join("www/models/manifest.json")).unwrap()).unwrap();
    assert_eq!(models.len(), manifest["models"].as_array().unwrap().len(), "a fixture per published model (rerun python/onnx_parity_fixtures.py)");
    for m in models {
        let id = m["id"].as_str().unwrap();
        let c = m["n_classes"].as_u64().unwrap() as usize;
        let (mut model, _) = weights::load(&std::fs::read(repo().join(format!("www/models/{id}.safetensors"))).unwrap()).unwrap();
        model.fold_batch_norm();
        let mut ws = Workspace::new();
        let scores = model.infer(x.view(), &mut ws).unwrap();
        let expected = nhwc(&floats(&format!("{id}.f32")), c, h, w);
        assert_eq!(scores.shape(), expected.shape(), "{id}");
        let worst = scores.iter().zip(expected.iter()).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0f32, f32::max);
        println!("{id}: largest difference from onnxruntime {worst:.2e}");
        assert!(worst <= TOLERANCE, "{id}: the engine differs from onnxruntime by {worst:.2e}");
    }
}

//! The engine against ONNX Runtime: every published model, exported to ONNX by
//! `python/onnx_export.py` and run by onnxruntime on one input, gives the scores in
//! `fixtures/onnx/` (written by `python/onnx_parity_fixtures.py`). The engine, reading the
//! same weights file with its batch norms folded as in the page, must agree within 1e-4.

#[path = "common/fixtures.rs"]
mod fixtures;

use fixtures::{floats, index, largest_difference, nhwc, repo};
use skipscope_engine::model::Workspace;
use skipscope_engine::weights;

/// Largest difference allowed, absolute below 1 and relative above.
const TOLERANCE: f32 = 1e-4;

#[test]
fn every_published_model_matches_onnx_runtime() {
    let index = index("onnx");
    let (h, w) = (index["height"].as_u64().unwrap() as usize, index["width"].as_u64().unwrap() as usize);
    let x = nhwc(&floats("onnx", "input.f32"), 3, h, w);
    let models = index["models"].as_array().unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(repo().join("www/models/manifest.json")).unwrap()).unwrap();
    assert_eq!(models.len(), manifest["models"].as_array().unwrap().len(), "a fixture per published model (rerun python/onnx_parity_fixtures.py)");
    for m in models {
        let id = m["id"].as_str().unwrap();
        let c = m["n_classes"].as_u64().unwrap() as usize;
        let (mut model, _) = weights::load(&std::fs::read(repo().join(format!("www/models/{id}.safetensors"))).unwrap()).unwrap();
        model.fold_batch_norm();
        let mut workspace = Workspace::new();
        let scores = model.infer(x.view(), &mut workspace).unwrap();
        let worst = largest_difference(scores, nhwc(&floats("onnx", &format!("{id}.f32")), c, h, w).view());
        println!("{id}: largest difference from onnxruntime {worst:.2e}");
        assert!(worst <= TOLERANCE, "{id}: the engine differs from onnxruntime by {worst:.2e}");
    }
}

//! The engine against the PyTorch model family (`python/skipscope_torch`): for each of the
//! nine variants, a model with random weights and batch-norm statistics was built in
//! PyTorch, exported by `skipscope_torch.export` as a user's trained model is, and run by
//! PyTorch (eval mode) on one input (`python/torch_parity_fixtures.py`, committed in
//! `fixtures/torch/`). The engine reads each exported file, folds its batch norms as the page
//! does, and must give PyTorch's scores within 1e-4.

#[path = "common/fixtures.rs"]
mod fixtures;

use fixtures::{bytes, floats, index, largest_difference, nhwc};
use skipscope_engine::model::Workspace;
use skipscope_engine::{weights, Variant};

/// Largest difference allowed, absolute below 1 and relative above.
const TOLERANCE: f32 = 1e-4;

#[test]
fn every_variant_exported_from_pytorch_matches_pytorch() {
    let index = index("torch");
    let get = |k: &str| index[k].as_u64().unwrap() as usize;
    let (h, w, c) = (get("height"), get("width"), get("n_classes"));
    let x = nhwc(&floats("torch", "input.f32"), 3, h, w);
    let variants: Vec<&str> = index["variants"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let all: Vec<String> = Variant::all().map(|v| v.to_string()).collect();
    assert_eq!(variants.len(), all.len(), "a fixture per variant (rerun python/torch_parity_fixtures.py)");
    for name in variants {
        let (mut model, meta) = weights::load(&bytes("torch", &format!("{name}.safetensors"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(meta.config.variant().to_string(), name);
        assert_eq!(meta.classes.len(), c, "{name}: the exporter names every class");
        model.fold_batch_norm();
        let mut workspace = Workspace::new();
        let scores = model.infer(x.view(), &mut workspace).unwrap();
        let worst = largest_difference(scores, nhwc(&floats("torch", &format!("{name}.f32")), c, h, w).view());
        println!("{name}: largest difference from PyTorch {worst:.2e}");
        assert!(worst <= TOLERANCE, "{name}: the engine differs from PyTorch by {worst:.2e}");
    }
}

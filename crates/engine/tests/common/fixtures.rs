//! Reading the reference fixtures that other implementations wrote (onnxruntime's and
//! PyTorch's scores): little-endian float32 files, channel-major `[C, H, W]`.

use ndarray::{Array4, ArrayView4};
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file under `crates/engine/tests/fixtures/<dir>`.
pub fn bytes(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(repo().join("crates/engine/tests/fixtures").join(dir).join(name)).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
}

/// Little-endian float32 values of a fixture file.
pub fn floats(dir: &str, name: &str) -> Vec<f32> {
    bytes(dir, name).chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// A fixture's `index.json`.
pub fn index(dir: &str) -> serde_json::Value {
    serde_json::from_slice(&bytes(dir, "index.json")).unwrap()
}

/// `[C, H, W]` channel-major values as an NHWC `[1, H, W, C]` array.
pub fn nhwc(chw: &[f32], c: usize, h: usize, w: usize) -> Array4<f32> {
    assert_eq!(chw.len(), c * h * w, "a [{c}, {h}, {w}] fixture");
    Array4::from_shape_fn((1, h, w, c), |(_, y, x, ch)| chw[(ch * h + y) * w + x])
}

/// The largest difference between two arrays, absolute below 1 and relative above.
pub fn largest_difference(a: ArrayView4<f32>, b: ArrayView4<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0f32, f32::max)
}

//! The engine's inference as a bare wasm module for tests/bench/ (no wasm-bindgen: the
//! page writes a weights file into memory, calls `load`, then times `infer` itself):
//!
//! `cargo build --release --target wasm32-unknown-unknown -p skipscope-engine --example wasm_bench`
//!
//! Exports: `alloc(len) -> ptr`, `load(ptr, len, height, width) -> status` (0: loaded;
//! the model runs once to warm its workspace), `infer() -> status` (one `Model::infer`,
//! batch norm folded, on a fixed random input). Natively it builds but does nothing.

use skipscope_engine::bench::Inference;
use std::cell::RefCell;

thread_local! {
    static LOADED: RefCell<Option<Inference>> = const { RefCell::new(None) };
}

/// `len` bytes for the caller to fill (leaked; the bench loads a few files).
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Loads the weights file at `ptr..ptr + len` (from [`alloc`]) for `height x width` inputs.
///
/// # Safety
/// `ptr..ptr + len` must be memory from [`alloc`].
#[no_mangle]
pub unsafe extern "C" fn load(ptr: *const u8, len: usize, height: usize, width: usize) -> i32 {
    // SAFETY: the caller passes a buffer from `alloc` of at least `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    let Ok((model, _)) = skipscope_engine::weights::load(bytes) else { return 1 };
    let Ok(inference) = Inference::new(model, height, width) else { return 2 };
    LOADED.with(|l| *l.borrow_mut() = Some(inference));
    0
}

/// One inference of the loaded model: 0, or 1 when nothing is loaded.
#[no_mangle]
pub extern "C" fn infer() -> i32 {
    LOADED.with(|l| match l.borrow_mut().as_mut() {
        Some(inference) => {
            inference.infer();
            0
        }
        None => 1,
    })
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
extern "C" {
    /// `performance.now()`, supplied by the page.
    fn now_ms() -> f64;
}

/// [`skipscope_engine::bench::run`] (every layer and the whole model, forward only, random
/// weights) of the model of `width` channels at 192x256, variant `Variant::all()[variant]`
/// (4: transposed-add), as text: returns a pointer to `[len: u32 LE][len bytes of UTF-8]`.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub extern "C" fn bench_layers(width: usize, repeats: usize, variant: usize) -> *const u8 {
    use skipscope_engine::bench::{self, BenchConfig};
    use skipscope_engine::{ModelConfig, Variant};
    let Some(v) = Variant::all().nth(variant) else { return std::ptr::null() };
    let model = ModelConfig { in_channels: 3, n_classes: 11, depth: 4, width, upsample: v.upsample, skip: v.skip };
    let config = BenchConfig { model, height: 192, width: 256, repeats, backward: false };
    // SAFETY: the page supplies `now_ms`, a plain clock.
    let report = match bench::run(&config, &|| unsafe { now_ms() }) {
        Ok(r) => r.to_string(),
        Err(e) => e.to_string(),
    };
    let mut out = (report.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(report.as_bytes());
    Box::leak(out.into_boxed_slice()).as_ptr()
}

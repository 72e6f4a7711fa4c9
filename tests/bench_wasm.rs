//! Engine speed in headless Chromium (wasm, simd128). Ignored by default; run it with
//! `cargo test --release --target wasm32-unknown-unknown -p skipscope --test bench_wasm -- --include-ignored --nocapture`.
//! Not ignored: the wasm direct convolution kernel equals im2col + GEMM, in the simd128
//! build and (`--features relaxed-simd`) the relaxed-SIMD one.
#![cfg(target_arch = "wasm32")]

#[path = "../crates/engine/tests/common/direct_conv.rs"]
mod direct_conv;

use skipscope_engine::bench::{self, BenchConfig};
use skipscope_engine::{ModelConfig, Skip, Upsample};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn direct_kernel_matches_im2col() {
    let direct = direct_conv::direct_kernel_matches_im2col();
    // 4 lanes: the shapes with up to 24 output channels, 37 to 40 (10 vectors), and whole
    // vectors past that (in blocks).
    assert!(direct >= 20, "the direct kernel took {direct} of the shapes");
}

#[wasm_bindgen_test]
fn direct_backward_matches_im2col() {
    let (dx, dw) = direct_conv::direct_backward_matches_im2col();
    // 4 lanes: dx for the 3x3 and 5x5 shapes with up to 24 input channels (and 40), the
    // weight gradient for those with up to 32 output channels.
    assert!(dx >= 15 && dw >= 30, "the direct kernels took dx of {dx} and the weight gradient of {dw} of the shapes");
}

#[wasm_bindgen_test]
fn direct_transposed_matches_gemm() {
    let direct = direct_conv::direct_transposed_matches_gemm();
    // 4 lanes: the shapes with up to 24 output channels, 37 to 40 (10 vectors), and 44.
    assert!(direct >= 24, "the direct transposed kernel took {direct} of the shapes");
}

#[wasm_bindgen_test]
#[ignore]
fn bench_backward_direct_against_im2col() {
    let now = || web_sys::window().expect("a window").performance().expect("performance").now();
    for t in bench::backward_kernels(10, &now) {
        web_sys::console::log_1(
            &format!("backward {}: direct {:.2} ms, im2col {:.2} ms, {:.2}x", t.layer, t.direct_ms, t.im2col_ms, t.im2col_ms / t.direct_ms).into(),
        );
    }
}

#[wasm_bindgen_test]
#[ignore]
fn bench_transposed_add_widths_8_10_and_16() {
    for width in [8, 10, 16] {
        let config = BenchConfig {
            model: ModelConfig { in_channels: 3, n_classes: 11, depth: 4, width, upsample: Upsample::Transposed, skip: Skip::Add },
            height: 192,
            width: 256,
            repeats: 5,
            backward: false,
        };
        let report = bench::run(&config, &skipscope::now_ms).expect("the benchmark config is valid");
        console_log!("{report}");
    }
}

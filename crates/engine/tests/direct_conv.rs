//! The direct convolution kernel (AVX-512F, or AVX2 + FMA with `SKIPSCOPE_NO_AVX512` set, where
//! the CPU has them) equals im2col + GEMM, forward and for both gradients; see common/direct_conv.rs.

#[path = "common/direct_conv.rs"]
mod direct_conv;

#[test]
fn direct_kernel_matches_im2col() {
    let direct = direct_conv::direct_kernel_matches_im2col();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        assert!(direct >= 40, "the direct kernel took {direct} of the shapes");
    }
    println!("the direct kernel took {direct} of the shapes");
}

#[test]
fn direct_backward_matches_im2col() {
    let (dx, dw) = direct_conv::direct_backward_matches_im2col();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        assert!(dx >= 30 && dw >= 30, "the direct kernels took dx of {dx} and the weight gradient of {dw} of the shapes");
    }
    println!("the direct kernels took dx of {dx} and the weight gradient of {dw} of the shapes");
}

/// The learn view's convolutions backward, direct kernels against im2col, natively:
/// `cargo test --release -p skipscope-engine --test direct_conv -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_backward_direct_against_im2col() {
    let start = std::time::Instant::now();
    let now = || start.elapsed().as_secs_f64() * 1000.0;
    for t in skipscope_engine::bench::backward_kernels(10, &now) {
        println!("backward {}: direct {:.2} ms, im2col {:.2} ms, {:.2}x", t.layer, t.direct_ms, t.im2col_ms, t.im2col_ms / t.direct_ms);
    }
}

#[test]
fn direct_transposed_matches_gemm() {
    let direct = direct_conv::direct_transposed_matches_gemm();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        assert!(direct >= 40, "the direct transposed kernel took {direct} of the shapes");
    }
    println!("the direct transposed kernel took {direct} of the shapes");
}

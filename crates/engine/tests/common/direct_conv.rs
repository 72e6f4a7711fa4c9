//! The direct convolution kernel against the plain im2col + GEMM path, shared by the native
//! test (crates/engine/tests/direct_conv.rs) and the wasm one (tests/bench_wasm.rs, both
//! wasm builds: simd128 and relaxed SIMD).

use ndarray::Array4;
use skipscope_engine::layers::conv2d::{Conv2d, Conv2dConfig};
use skipscope_engine::rng::Rng;

/// Compares `forward_into` and `forward_relu_into` with `forward_im2col` (ReLU applied
/// after) within 1e-5 relative (times sqrt(terms / 64) for sums of more than 64 terms), over random shapes with odd sizes: 1x1, 3x3 with and
/// without padding and 5x5, 1 to 48 output channels, batch 1 and 2, the model's
/// full-resolution layers and some of 57 to 96 output channels. Returns how many of the shapes took the direct kernel.
pub fn direct_kernel_matches_im2col() -> usize {
    let mut rng = Rng::new(11);
    // The full-resolution layers, then wide ones (blocks of output vectors in wasm).
    let mut shapes = vec![
        (3, 10, 3, 1, [1, 24, 32]),
        (10, 10, 3, 1, [1, 7, 13]),
        (10, 11, 1, 0, [1, 9, 5]),
        (20, 10, 3, 1, [2, 5, 9]),
        (40, 80, 3, 1, [1, 6, 10]),
        (80, 80, 1, 0, [1, 5, 7]),
        (80, 160, 3, 1, [2, 3, 4]),
        // 4 to 6 vectors of AVX-512's 16 lanes.
        (12, 64, 3, 1, [1, 5, 7]),
        (7, 57, 1, 0, [2, 5, 9]),
        (5, 90, 5, 2, [1, 5, 5]),
        (9, 96, 3, 0, [1, 6, 8]),
    ];
    for cout in 1..=48 {
        let cin = 1 + (rng.uniform() * 24.0) as usize;
        let (kernel, pad) = [(1, 0), (3, 1), (3, 0), (5, 2)][cout % 4];
        let (h, w) = (5 + (rng.uniform() * 9.0) as usize, 5 + (rng.uniform() * 17.0) as usize);
        shapes.push((cin, cout, kernel, pad, [1 + cout % 2, h, w]));
    }
    let mut direct = 0;
    for (cin, cout, kernel, padding, [n, h, w]) in shapes {
        let mut conv = Conv2d::<f32>::new(Conv2dConfig { in_channels: cin, out_channels: cout, kernel, padding }, &mut rng);
        conv.bias.value.mapv_inplace(|_| rng.normal() as f32);
        direct += usize::from(conv.uses_direct_kernel());
        let x = Array4::from_shape_simple_fn((n, h, w, cin), || rng.normal() as f32);
        let shape = conv.output_shape([n, h, w, cin]).unwrap();
        let mut plain = Array4::zeros(shape);
        conv.forward_im2col(x.view(), plain.view_mut(), &mut Vec::new());
        let plain_relu = plain.mapv(|v| v.max(0.0));
        for (relu, expected) in [(false, &plain), (true, &plain_relu)] {
            let mut got = Array4::from_elem(shape, f32::NAN);
            // A scratch of the wrong size and contents: the kernel must size and fill it.
            let mut scratch = vec![f32::NAN; 7];
            if relu {
                conv.forward_relu_into(x.view(), got.view_mut(), &mut scratch);
            } else {
                conv.forward_into(x.view(), got.view_mut(), &mut scratch);
            }
            // Sums of more than 64 terms: sqrt(terms / 64) times the tolerance, as below.
            let scale = ((kernel * kernel * cin) as f32 / 64.0).sqrt().max(1.0);
            for (g, e) in got.iter().zip(expected.iter()) {
                assert!((g - e).abs() <= 1e-5 * scale * (1.0 + e.abs()), "{cin}->{cout} k{kernel} p{padding} {n}x{h}x{w} relu {relu}: {g} vs {e}");
            }
        }
        fused_forms_equal_the_unfused(&conv, &x, &mut rng);
    }
    direct
}

/// The fused forms give exactly what their parts give: `forward_add_into` equals
/// `forward_into`, then the add; `forward_relu_stacked_into` of two parts equals
/// `forward_relu_into` of their concatenation (whichever path runs).
fn fused_forms_equal_the_unfused(conv: &Conv2d<f32>, x: &Array4<f32>, rng: &mut Rng) {
    let (n, h, w, cin) = x.dim();
    let shape = conv.output_shape([n, h, w, cin]).unwrap();
    let what = format!("{cin}->{} k{} {n}x{h}x{w}", conv.config.out_channels, conv.config.kernel);
    let addend = Array4::from_shape_simple_fn(shape, || rng.normal() as f32);
    let mut unfused = Array4::from_elem(shape, f32::NAN);
    conv.forward_into(x.view(), unfused.view_mut(), &mut Vec::new());
    unfused += &addend;
    let mut fused = Array4::from_elem(shape, f32::NAN);
    conv.forward_add_into(x.view(), addend.view(), fused.view_mut(), &mut vec![f32::NAN; 3]);
    assert_eq!(fused, unfused, "{what}: conv + addend");
    let ca = cin / 2;
    let (a, b) = (x.slice(ndarray::s![.., .., .., ..ca]).to_owned(), x.slice(ndarray::s![.., .., .., ca..]).to_owned());
    let mut whole = Array4::from_elem(shape, f32::NAN);
    conv.forward_relu_into(x.view(), whole.view_mut(), &mut Vec::new());
    let mut stacked = Array4::from_elem(shape, f32::NAN);
    conv.forward_relu_stacked_into(a.view(), b.view(), stacked.view_mut(), &mut vec![f32::NAN; 3]);
    assert_eq!(stacked, whole, "{what}: [{ca} | {}] stacked", cin - ca);
}

/// Compares `backward` (whose `dx` and weight gradient take the direct kernels where they
/// run) with `backward_im2col` within 1e-5 relative (times sqrt(terms / 64) for sums of
/// more than 64 terms): `dx`, the weight and the bias
/// gradients, over 1 to 48 input channels, 1x1, 3x3 with and without padding and 5x5, batch
/// 1 and 2, the learn view's layers and four of 72 to 96 output or input channels. Returns how many of the shapes took the direct
/// kernel for `dx` and for the weight gradient.
pub fn direct_backward_matches_im2col() -> (usize, usize) {
    let mut rng = Rng::new(12);
    let mut shapes = vec![
        (3, 8, 3, 1, [4, 16, 16]),
        (8, 8, 3, 1, [2, 9, 13]),
        (16, 8, 3, 1, [1, 8, 8]),
        (40, 20, 3, 1, [1, 6, 10]),
        (16, 32, 3, 1, [2, 8, 8]),
        (32, 64, 3, 1, [1, 4, 4]),
        (64, 16, 3, 1, [1, 5, 3]),
        // 5 and 6 vectors of AVX-512's 16 lanes: the weight gradient (output channels)
        // and dx (input channels).
        (8, 72, 3, 1, [1, 6, 6]),
        (4, 96, 3, 0, [2, 5, 7]),
        (72, 8, 3, 1, [1, 5, 6]),
        (90, 4, 1, 0, [2, 4, 5]),
    ];
    for cin in 1..=48 {
        let cout = 1 + (rng.uniform() * 24.0) as usize;
        let (kernel, pad) = [(3, 1), (3, 0), (5, 2), (1, 0)][cin % 4];
        let (h, w) = (5 + (rng.uniform() * 9.0) as usize, 5 + (rng.uniform() * 17.0) as usize);
        shapes.push((cin, cout, kernel, pad, [1 + cin % 2, h, w]));
    }
    let (mut direct_dx, mut direct_dw) = (0, 0);
    for (cin, cout, kernel, padding, [n, h, w]) in shapes {
        let mut conv = Conv2d::<f32>::new(Conv2dConfig { in_channels: cin, out_channels: cout, kernel, padding }, &mut rng);
        direct_dx += usize::from(conv.uses_direct_backward());
        direct_dw += usize::from(conv.uses_direct_weight_gradient());
        let x = Array4::from_shape_simple_fn((n, h, w, cin), || rng.normal() as f32);
        let (y, cache) = conv.forward(&x).unwrap();
        let dy = Array4::from_shape_simple_fn(y.raw_dim(), || rng.normal() as f32);
        let mut plain = conv.clone();
        let expected = plain.backward_im2col(&cache, dy.view());
        let got = conv.backward(&cache, dy.view());
        let what = format!("{cin}->{cout} k{kernel} p{padding} {n}x{h}x{w}");
        // Each value is an f32 sum of `terms` products, added in another order by each path:
        // they differ by about sqrt(terms) roundings of the partial sums.
        let pixels = y.len() / cout;
        for (name, g, e, terms) in [
            ("dx", got.as_slice().unwrap(), expected.as_slice().unwrap(), kernel * kernel * cout),
            ("weight grad", conv.weight.grad.as_slice().unwrap(), plain.weight.grad.as_slice().unwrap(), pixels),
            ("bias grad", conv.bias.grad.as_slice().unwrap(), plain.bias.grad.as_slice().unwrap(), pixels),
        ] {
            assert_eq!(g.len(), e.len(), "{what}: {name} length");
            let tolerance = 1e-5 * (terms as f32 / 64.0).sqrt().max(1.0);
            for (g, e) in g.iter().zip(e) {
                assert!((g - e).abs() <= tolerance * (1.0 + e.abs()), "{what}: {name} {g} vs {e}");
            }
        }
    }
    (direct_dx, direct_dw)
}

/// Compares the transposed convolution's `forward_into` (the sub-pixel direct kernel for
/// kernel 4, stride 2, padding 1, where it runs) with `forward_gemm` within 1e-5 relative
/// (times sqrt(terms / 64) for sums of more than 64 terms, as for the backward),
/// over 1 to 44 output channels, odd sizes, batch 1 and 2, the models' decoder levels and
/// two of 64 and 88 output channels.
/// Returns how many of the shapes took the direct kernel.
pub fn direct_transposed_matches_gemm() -> usize {
    use skipscope_engine::layers::conv_transpose2d::{ConvTranspose2d, ConvTranspose2dConfig};
    let mut rng = Rng::new(13);
    let mut shapes = vec![(10, 10, [1, 12, 16]), (20, 10, [1, 6, 8]), (80, 40, [1, 3, 4]), (40, 20, [2, 3, 5]), (12, 64, [1, 3, 5]), (6, 88, [2, 2, 3])];
    for cout in 1..=44 {
        let cin = 1 + (rng.uniform() * 30.0) as usize;
        let (h, w) = (1 + (rng.uniform() * 9.0) as usize, 1 + (rng.uniform() * 13.0) as usize);
        shapes.push((cin, cout, [1 + cout % 2, h, w]));
    }
    let mut direct = 0;
    for (cin, cout, [n, h, w]) in shapes {
        let mut up = ConvTranspose2d::<f32>::bilinear(ConvTranspose2dConfig::x2(cin, cout));
        up.weight.value.mapv_inplace(|_| rng.normal() as f32);
        up.bias.value.mapv_inplace(|_| rng.normal() as f32);
        direct += usize::from(up.uses_direct_kernel());
        let x = Array4::from_shape_simple_fn((n, h, w, cin), || rng.normal() as f32);
        let shape = up.output_shape([n, h, w, cin]).unwrap();
        let mut plain = Array4::zeros(shape);
        up.forward_gemm(x.view(), plain.view_mut(), &mut Vec::new());
        let mut got = Array4::from_elem(shape, f32::NAN);
        up.forward_into(x.view(), got.view_mut(), &mut vec![f32::NAN; 5]);
        // Each output sums 4 taps of every input channel.
        let scale = (4.0 * cin as f32 / 64.0).sqrt().max(1.0);
        for (g, e) in got.iter().zip(plain.iter()) {
            assert!((g - e).abs() <= 1e-5 * scale * (1.0 + e.abs()), "transposed {cin}->{cout} {n}x{h}x{w}: {g} vs {e}");
        }
    }
    direct
}

//! A direct NHWC convolution for narrow f32 layers (few output channels), the fast path
//! of [`super::conv2d::Conv2d::forward_into`] where im2col + GEMM spends more time moving
//! patches than multiplying (the full-resolution layers of the width-10 models: K = 27 or
//! 90, N = 10).
//!
//! The input is copied once into a zero-padded buffer (no copy for 1x1), so that the
//! `KW x C_in` taps of one kernel row are contiguous for every output pixel; an input given
//! as two maps stacked along channels ([`Input::Stacked`], the concat decoder's) is
//! interleaved in that same copy, so the stack is never built. A micro-kernel
//! keeps `PB` neighbouring pixels x `NV` SIMD vectors of output channels in registers
//! (output channels padded with zero weights to a whole number of vectors), broadcasts one
//! input value at a time and multiply-adds it with one weight row. Bias starts the sums; an
//! addend map (the add decoder's upsampled map) is added and ReLU applied before the store
//! (the epilogue).
//!
//! SIMD: x86-64 AVX-512F (16 lanes) or else AVX2 + FMA (8 lanes), chosen at run time (the
//! environment variable `SKIPSCOPE_NO_AVX512` rules AVX-512 out, so that the AVX2 kernels
//! are tested and timed on a CPU that has both), and wasm32 simd128 (4 lanes,
//! `mul` then `add`; with the crate feature `relaxed-simd`, the page's second worker build,
//! `f32x4_relaxed_madd` in functions compiled with that target feature). Elsewhere, or for
//! shapes it does not take, [`conv`] returns `false` and the caller runs im2col.

/// Output channel vectors a micro-kernel keeps at most; more takes the GEMM path.
const MAX_VECTORS: usize = 10;

/// Whether a micro-kernel exists for `nv` output vectors, as measured against the GEMM
/// (docs/bench/SPEED.md): natively 1 to 6, up to 48 channels with AVX2's 8 lanes (80
/// channels, 10 vectors, ran 1.4x slower than the GEMM), 96 with AVX-512's 16 (the width-10
/// models' layers of 40 and 80 output channels 1.1-1.9x faster than with AVX2,
/// docs/bench/layers-avx512-vs-avx2.txt); in wasm (4 lanes) also 10 vectors, 40
/// channels (0.6-0.8x the GEMM's time; 80 channels, 20 vectors, was no faster).
fn has_kernel(nv: usize) -> bool {
    #[cfg(target_arch = "wasm32")]
    return matches!(nv, 1..=6 | 10);
    #[cfg(not(target_arch = "wasm32"))]
    matches!(nv, 1..=6)
}

/// Sizes of one direct convolution (stride 1, square kernel, symmetric zero padding).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub cout: usize,
    pub kernel: usize,
    pub pad: usize,
}

impl Shape {
    fn oh(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.kernel
    }

    fn ow(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.kernel
    }
}

/// The SIMD operations the micro-kernel needs; `unsafe` because they read and write raw
/// pointers and assume the target feature is present.
trait Simd {
    type V: Copy;
    const LANES: usize;
    unsafe fn splat(v: f32) -> Self::V;
    unsafe fn load(p: *const f32) -> Self::V;
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `acc + a * b` (fused where the target has it).
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn relu(v: Self::V) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    type V = core::arch::x86_64::__m256;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self::V {
        core::arch::x86_64::_mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        core::arch::x86_64::_mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        core::arch::x86_64::_mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V {
        core::arch::x86_64::_mm256_fmadd_ps(a, b, acc)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        core::arch::x86_64::_mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn relu(v: Self::V) -> Self::V {
        core::arch::x86_64::_mm256_max_ps(v, core::arch::x86_64::_mm256_setzero_ps())
    }
}

/// AVX-512F: 16 lanes, where the CPU has it (chosen at run time over AVX2).
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    type V = core::arch::x86_64::__m512;
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self::V {
        core::arch::x86_64::_mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        core::arch::x86_64::_mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        core::arch::x86_64::_mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V {
        core::arch::x86_64::_mm512_fmadd_ps(a, b, acc)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        core::arch::x86_64::_mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn relu(v: Self::V) -> Self::V {
        core::arch::x86_64::_mm512_max_ps(v, core::arch::x86_64::_mm512_setzero_ps())
    }
}

/// Whether this CPU has AVX-512F, and AVX2 and FMA, which Rust's `avx512f` target feature
/// implies (asked once); `false` where `SKIPSCOPE_NO_AVX512` is set, to any value.
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::env::var_os("SKIPSCOPE_NO_AVX512").is_none()
    })
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
struct Wasm128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Simd for Wasm128 {
    type V = core::arch::wasm32::v128;
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self::V {
        core::arch::wasm32::f32x4_splat(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        core::arch::wasm32::v128_load(p.cast())
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        core::arch::wasm32::v128_store(p.cast(), v)
    }
    #[inline(always)]
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V {
        core::arch::wasm32::f32x4_add(acc, core::arch::wasm32::f32x4_mul(a, b))
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        core::arch::wasm32::f32x4_add(a, b)
    }
    #[inline(always)]
    unsafe fn relu(v: Self::V) -> Self::V {
        core::arch::wasm32::f32x4_max(v, core::arch::wasm32::f32x4_splat(0.0))
    }
}

/// simd128 with relaxed SIMD's multiply-add (fused where the host has FMA): only inside
/// functions compiled with `#[target_feature(enable = "relaxed-simd")]`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed-simd"))]
struct WasmRelaxed;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed-simd"))]
impl Simd for WasmRelaxed {
    type V = core::arch::wasm32::v128;
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self::V {
        Wasm128::splat(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        Wasm128::load(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        Wasm128::store(p, v)
    }
    #[inline(always)]
    unsafe fn madd(a: Self::V, b: Self::V, acc: Self::V) -> Self::V {
        core::arch::wasm32::f32x4_relaxed_madd(a, b, acc)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        Wasm128::add(a, b)
    }
    #[inline(always)]
    unsafe fn relu(v: Self::V) -> Self::V {
        Wasm128::relu(v)
    }
}

/// Lanes of the SIMD this build and machine would use, if any.
fn lanes() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return Some(Avx512::LANES);
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        return Some(Avx2::LANES);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return Some(Wasm128::LANES);
    #[allow(unreachable_code)]
    None
}

/// Whether [`conv`] takes convolutions with `cout` output channels on this machine.
pub(crate) fn takes(cout: usize) -> bool {
    lanes().is_some_and(|l| has_kernel(cout.div_ceil(l)) || takes_blocked(cout, l))
}

/// The output vectors per block where a wasm layer of `nv` output vectors runs in blocks,
/// each block a pass over every pixel, 2 pixels at a time ([`Kernel::run_all`]), rather than
/// all its vectors x 1 pixel (`None`), as measured by the per-layer test in Chromium:
/// - 5 or 6 vectors (20-24 channels): blocks of 4 (one weight load had fed 1 pixel only;
///   the width-10 models' 20-channel layers ran 1.2-1.6x faster);
/// - 10 vectors (40 channels): two blocks of 5 (the 10 x 1 kernel streamed all the weights,
///   more than L1 holds, for every pixel; blocks of 4 were slower);
/// - more than [`MAX_VECTORS`] ([`takes_blocked`]): blocks of 4.
///
/// Whole vectors only (`whole`): a block's last pixel must not spill into the next pixel's
/// channels, written by an earlier block.
#[cfg(target_arch = "wasm32")]
fn wasm_block(nv: usize, whole: bool) -> Option<usize> {
    match nv {
        _ if !whole => None,
        5 | 6 => Some(4),
        10 => Some(5),
        _ if nv > MAX_VECTORS => Some(4),
        _ => None,
    }
}

/// Whether a wide layer runs in blocks of 4 output vectors x 2 pixels ([`Kernel::run_all`]):
/// in wasm, whole vectors of more than [`MAX_VECTORS`], up to 160 channels (the CamVid
/// models' 80- and 160-channel layers: about 1.1x faster whole models than the GEMM there,
/// in both wasm builds; BENCHMARKS.md). Natively the GEMM stays faster at these widths.
fn takes_blocked(cout: usize, lanes: usize) -> bool {
    cfg!(target_arch = "wasm32") && cout.is_multiple_of(lanes) && cout / lanes > MAX_VECTORS && cout <= 160
}

/// One kernel call, compiled for whichever SIMD [`dispatch`] picks.
trait SimdRun {
    /// # Safety
    /// `S`'s instructions exist on this machine, and the operands' lengths suit the kernel.
    unsafe fn run<S: Simd>(self);
}

/// Runs `op` with this build's SIMD, inside a function compiled with that SIMD's target
/// features so that the kernel inlines its instructions: natively AVX-512F where the CPU has
/// it (and `SKIPSCOPE_NO_AVX512` is not set), else AVX2 + FMA; simd128 in wasm, relaxed SIMD
/// in the `relaxed-simd` build.
///
/// # Safety
/// Natively, the CPU has AVX2 and FMA ([`lanes`] is `Some`; AVX-512F is asked here); the `relaxed-simd` build runs
/// only where relaxed SIMD validates (the page checks before it loads it); `op`'s operands
/// have the lengths its kernel needs.
#[inline(always)]
unsafe fn dispatch(op: impl SimdRun) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        dispatch_avx512(op)
    } else {
        dispatch_avx2(op)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(feature = "relaxed-simd")))]
    op.run::<Wasm128>();
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed-simd"))]
    dispatch_relaxed(op);
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    drop(op);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dispatch_avx2(op: impl SimdRun) {
    op.run::<Avx2>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dispatch_avx512(op: impl SimdRun) {
    op.run::<Avx512>()
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed-simd"))]
#[target_feature(enable = "simd128,relaxed-simd")]
unsafe fn dispatch_relaxed(op: impl SimdRun) {
    op.run::<WasmRelaxed>()
}

/// A convolution's input: one map, or two maps read as their concatenation along channels
/// (`[a | b]`, never built: the padded copy the kernel reads is made from both).
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    /// `[N, H, W, C_in]`.
    One(&'a [f32]),
    /// `a`: `[N, H, W, ca]`, `b`: `[N, H, W, C_in - ca]`.
    Stacked { a: &'a [f32], b: &'a [f32], ca: usize },
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Input::One(x) => x.len(),
            Input::Stacked { a, b, .. } => a.len() + b.len(),
        }
    }
}

/// [`conv`]'s operands.
struct ConvRun<'a> {
    s: Shape,
    x: Input<'a>,
    weight: &'a [f32],
    bias: &'a [f32],
    addend: Option<&'a [f32]>,
    y: &'a mut [f32],
    relu: bool,
    scratch: &'a mut Vec<f32>,
}

impl SimdRun for ConvRun<'_> {
    #[inline(always)]
    unsafe fn run<S: Simd>(self) {
        conv_with::<S>(self)
    }
}

/// [`transposed_k4s2p1`]'s operands.
struct TransposedRun<'a> {
    s: Shape,
    x: &'a [f32],
    weight: &'a [f32],
    bias: &'a [f32],
    y: &'a mut [f32],
    scratch: &'a mut Vec<f32>,
}

impl SimdRun for TransposedRun<'_> {
    #[inline(always)]
    unsafe fn run<S: Simd>(self) {
        transposed_with::<S>(self.s, self.x, self.weight, self.bias, self.y, self.scratch)
    }
}

/// [`weight_grad`]'s operands.
struct GradRun<'a> {
    s: Shape,
    x: &'a [f32],
    dy: &'a [f32],
    dw: &'a mut [f32],
    scratch: &'a mut Vec<f32>,
}

impl SimdRun for GradRun<'_> {
    #[inline(always)]
    unsafe fn run<S: Simd>(self) {
        weight_grad_with::<S>(self.s, self.x, self.dy, self.dw, self.scratch)
    }
}

/// `y = conv(x, weight) + bias (+ addend)`, then ReLU if `relu`, if this machine has a
/// kernel for the shape ([`takes`]); returns `false` (and leaves `y` alone) otherwise.
/// The addend is added to the finished sum (`(conv + bias) + addend`, rounded as a separate
/// add would round it).
///
/// `x`: `[N, H, W, C_in]`; `weight`: `[K, K, C_in, C_out]`; `bias`: `[C_out]`;
/// `addend` and `y`: `[N, OH, OW, C_out]`, all standard layout. `scratch` holds the padded
/// weights and input; it grows once and is reused.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv(s: Shape, x: Input, weight: &[f32], bias: &[f32], addend: Option<&[f32]>, y: &mut [f32], relu: bool, scratch: &mut Vec<f32>) -> bool {
    if !takes(s.cout) {
        return false;
    }
    assert_eq!(x.len(), s.n * s.h * s.w * s.cin, "direct conv input");
    if let Input::Stacked { a, ca, .. } = x {
        assert_eq!(a.len(), s.n * s.h * s.w * ca, "direct conv input, first part");
    }
    assert_eq!(weight.len(), s.kernel * s.kernel * s.cin * s.cout, "direct conv weight");
    assert_eq!(bias.len(), s.cout, "direct conv bias");
    assert_eq!(y.len(), s.n * s.oh() * s.ow() * s.cout, "direct conv output");
    assert!(addend.is_none_or(|a| a.len() == y.len()), "direct conv addend");
    // SAFETY: the check above saw this machine's SIMD (natively AVX-512F, or AVX2 and FMA); the
    // lengths were checked above.
    unsafe { dispatch(ConvRun { s, x, weight, bias, addend, y, relu, scratch }) };
    true
}

/// Pads weights, bias and input into `scratch`, then runs the micro-kernel for the
/// number of output vectors over every output row.
#[inline(always)]
unsafe fn conv_with<S: Simd>(op: ConvRun) {
    let ConvRun { s, x, weight, bias, addend, y, relu, scratch } = op;
    let nv = s.cout.div_ceil(S::LANES);
    let cop = nv * S::LANES;
    let taps = s.kernel * s.kernel * s.cin;
    let (hp, wp) = (s.h + 2 * s.pad, s.w + 2 * s.pad);
    let padded_len = if s.pad > 0 || matches!(x, Input::Stacked { .. }) { s.n * hp * wp * s.cin } else { 0 };
    let needed = cop + taps * cop + padded_len;
    super::grow_scratch(scratch, needed);
    let (b, rest) = scratch.split_at_mut(cop);
    let (wpad, rest) = rest.split_at_mut(taps * cop);
    pad_channels(bias, s.cout, b);
    pad_channels(weight, s.cout, wpad);
    let xp = padded_input(s, x, &mut rest[..padded_len]);
    Kernel { s, hp, wp, cop, xp, w: wpad, b, addend, relu, block: 0 }.run_all::<S>(y);
}

/// `y = conv_transpose(x, weight) + bias` for a 4x4 kernel, stride 2 and padding 1 (the
/// decoders' transposed convolution: output `2H x 2W`), if this machine has a kernel for
/// `cout` ([`takes`]); returns `false` (and leaves `y` alone) otherwise.
///
/// Sub-pixel decomposition: output pixel `(2m + ry, 2j + rx)` sums input pixels
/// `(m - 1 + ry + a, j - 1 + rx + b)`, `a, b` in `0..2`, with kernel tap
/// `(3 - ry - 2a, 3 - rx - 2b)`. So each output parity `(ry, rx)` is a 2x2 stride-1
/// convolution of the input padded by one, run by the direct micro-kernel into scratch,
/// then interleaved into `y`: no column matrix, no scattered sums.
///
/// `x`: `[N, H, W, C_in]`; `weight`: `[C_in, 4, 4, C_out]`; `bias`: `[C_out]`;
/// `y`: `[N, 2H, 2W, C_out]`, all standard layout. `scratch` grows once and is reused.
pub(crate) fn transposed_k4s2p1(s: Shape, x: &[f32], weight: &[f32], bias: &[f32], y: &mut [f32], scratch: &mut Vec<f32>) -> bool {
    if !takes(s.cout) {
        return false;
    }
    assert_eq!((s.kernel, s.pad), (4, 1), "transposed kernel 4, padding 1");
    assert_eq!(x.len(), s.n * s.h * s.w * s.cin, "transposed conv input");
    assert_eq!(weight.len(), s.cin * 16 * s.cout, "transposed conv weight");
    assert_eq!(bias.len(), s.cout, "transposed conv bias");
    assert_eq!(y.len(), s.n * 4 * s.h * s.w * s.cout, "transposed conv output");
    // SAFETY: the check above saw this machine's SIMD (natively AVX-512F, or AVX2 and FMA); the
    // lengths were checked above.
    unsafe { dispatch(TransposedRun { s, x, weight, bias, y, scratch }) };
    true
}

/// Pads the input once, then per output parity: its 2x2 taps of the kernel, the
/// micro-kernel into a parity map, and that map interleaved into `y`.
#[inline(always)]
unsafe fn transposed_with<S: Simd>(s: Shape, x: &[f32], weight: &[f32], bias: &[f32], y: &mut [f32], scratch: &mut Vec<f32>) {
    let (n, h, w, cin, cout) = (s.n, s.h, s.w, s.cin, s.cout);
    let cop = cout.div_ceil(S::LANES) * S::LANES;
    let (hp, wp) = (h + 2, w + 2);
    let padded = Shape { kernel: 3, pad: 1, ..s };
    let padded_len = n * hp * wp * cin;
    super::grow_scratch(scratch, cop + 4 * cin * cop + padded_len + n * h * w * cout);
    let (b, rest) = scratch.split_at_mut(cop);
    let (taps, rest) = rest.split_at_mut(4 * cin * cop);
    let (xp, parity) = rest.split_at_mut(padded_len);
    let parity = &mut parity[..n * h * w * cout];
    pad_channels(bias, cout, b);
    pad_input(padded, Input::One(x), xp);
    // A parity is the 2x2 convolution that gives an `H x W` map from an `(H + 1) x (W + 1)`
    // window of the padded input, which starts at row `ry`, column `rx`.
    let window = Shape { n, h: h + 1, w: w + 1, cin, cout, kernel: 2, pad: 0 };
    for ry in 0..2 {
        for rx in 0..2 {
            for a in 0..2 {
                for bx in 0..2 {
                    let (ky, kx) = (3 - ry - 2 * a, 3 - rx - 2 * bx);
                    for ci in 0..cin {
                        let src = &weight[((ci * 4 + ky) * 4 + kx) * cout..][..cout];
                        let dst = &mut taps[((a * 2 + bx) * cin + ci) * cop..][..cop];
                        dst[..cout].copy_from_slice(src);
                        dst[cout..].fill(0.0);
                    }
                }
            }
            let xs = &xp[(ry * wp + rx) * cin..];
            Kernel { s: window, hp, wp, cop, xp: xs, w: taps, b, addend: None, relu: false, block: 0 }.run_all::<S>(parity);
            for (i, pixel) in parity.chunks_exact(cout).enumerate() {
                let (img, m, j) = (i / (h * w), i / w % h, i % w);
                let at = ((img * 2 * h + 2 * m + ry) * 2 * w + 2 * j + rx) * cout;
                y[at..at + cout].copy_from_slice(pixel);
            }
        }
    }
}

/// Copies rows of `c` values from `src` into the rows of `dst`, which are `dst.len() /
/// (src.len() / c)` wide, zero past `c`: channels padded to whole vectors.
fn pad_channels(src: &[f32], c: usize, dst: &mut [f32]) {
    let rows = src.len() / c;
    if rows == 0 {
        return;
    }
    let wide = dst.len() / rows;
    for (dst, src) in dst.chunks_exact_mut(wide).zip(src.chunks_exact(c)) {
        dst[..c].copy_from_slice(src);
        dst[c..].fill(0.0);
    }
}

/// One map without padding itself, else `x` written into `space` with a zero border
/// ([`pad_input`]; `space` is `[N, H + 2p, W + 2p, C_in]`).
fn padded_input<'a>(s: Shape, x: Input<'a>, space: &'a mut [f32]) -> &'a [f32] {
    if let (Input::One(x), 0) = (x, s.pad) {
        return x;
    }
    pad_input(s, x, space);
    space
}

/// Writes `x` (`[N, H, W, C_in]`) into `xp` (`[N, H + 2p, W + 2p, C_in]`) with a zero border.
fn pad_input(s: Shape, x: Input, xp: &mut [f32]) {
    let (hp, wp) = (s.h + 2 * s.pad, s.w + 2 * s.pad);
    // Zero the border only: the top and bottom `pad` rows of each image, and the `pad`
    // pixels either side of every row between.
    let (row, prow, side) = (s.w * s.cin, wp * s.cin, s.pad * s.cin);
    for image in xp.chunks_exact_mut(hp * prow) {
        image[..s.pad * prow].fill(0.0);
        image[(hp - s.pad) * prow..].fill(0.0);
        for r in image[s.pad * prow..(hp - s.pad) * prow].chunks_exact_mut(prow) {
            r[..side].fill(0.0);
            r[prow - side..].fill(0.0);
        }
    }
    let inner = |i: usize| {
        let (n, iy) = (i / s.h, i % s.h);
        ((n * hp + iy + s.pad) * wp + s.pad) * s.cin
    };
    match x {
        Input::One(x) => {
            for (i, src) in x.chunks_exact(row).enumerate() {
                let at = inner(i);
                xp[at..at + row].copy_from_slice(src);
            }
        }
        Input::Stacked { a, b, ca } => {
            let cb = s.cin - ca;
            for (i, (ra, rb)) in a.chunks_exact(s.w * ca).zip(b.chunks_exact(s.w * cb)).enumerate() {
                let dst = &mut xp[inner(i)..][..row];
                for ((d, pa), pb) in dst.chunks_exact_mut(s.cin).zip(ra.chunks_exact(ca)).zip(rb.chunks_exact(cb)) {
                    d[..ca].copy_from_slice(pa);
                    d[ca..].copy_from_slice(pb);
                }
            }
        }
    }
}

/// Whether [`weight_grad`] takes convolutions with `cout` output channels on this machine,
/// as measured against im2col + GEMM (`bench::backward_kernels`): natively up to 6
/// vectors, 48 channels with AVX2's 8 lanes (64 channels ran 0.8x the GEMM's speed), 96
/// with AVX-512's 16 (64 channels at 0.97-1.07x the GEMM's speed in `direct_conv`'s
/// ignored bench; AVX2 took 1.1-1.9x the time of the width-10 models' backward at 40-80
/// channels, docs/bench/layers-avx512-vs-avx2.txt);
/// in wasm (4 lanes) up to 8 vectors, 32 channels (1.4x the GEMM's speed at 32).
pub(crate) fn takes_weight_grad(cout: usize) -> bool {
    #[cfg(target_arch = "wasm32")]
    const MAX_GRAD_VECTORS: usize = 8;
    #[cfg(not(target_arch = "wasm32"))]
    const MAX_GRAD_VECTORS: usize = 6;
    lanes().is_some_and(|l| (1..=MAX_GRAD_VECTORS).contains(&cout.div_ceil(l)))
}

/// Adds the weight gradient of a convolution to `dw`:
/// `dw[ky, kx, ci, co] += sum over (n, oy, ox) of x_pad[n, oy + ky, ox + kx, ci] * dy[n, oy, ox, co]`,
/// if this machine has a kernel for the shape ([`takes_weight_grad`]); returns `false`
/// (and leaves `dw` alone) otherwise.
///
/// `x`: `[N, H, W, C_in]`; `dy`: `[N, OH, OW, C_out]`; `dw`: `[K, K, C_in, C_out]`, all
/// standard layout. `scratch` holds the padded input, `dy` with its channels padded to
/// whole vectors and the padded sums; it grows once and is reused.
pub(crate) fn weight_grad(s: Shape, x: &[f32], dy: &[f32], dw: &mut [f32], scratch: &mut Vec<f32>) -> bool {
    if !takes_weight_grad(s.cout) {
        return false;
    }
    assert_eq!(x.len(), s.n * s.h * s.w * s.cin, "weight gradient input");
    assert_eq!(dy.len(), s.n * s.oh() * s.ow() * s.cout, "weight gradient dy");
    assert_eq!(dw.len(), s.kernel * s.kernel * s.cin * s.cout, "weight gradient");
    // SAFETY: the check above saw this machine's SIMD (natively AVX-512F, or AVX2 and FMA); the
    // lengths were checked above.
    unsafe { dispatch(GradRun { s, x, dy, dw, scratch }) };
    true
}

/// Pads the input and `dy` into `scratch`, sums into padded `[K * K * C_in, cop]` rows with
/// the micro-kernel for the number of output vectors, then adds those to `dw`.
#[inline(always)]
unsafe fn weight_grad_with<S: Simd>(s: Shape, x: &[f32], dy: &[f32], dw: &mut [f32], scratch: &mut Vec<f32>) {
    let nv = s.cout.div_ceil(S::LANES);
    let cop = nv * S::LANES;
    let taps = s.kernel * s.kernel * s.cin;
    let (hp, wp) = (s.h + 2 * s.pad, s.w + 2 * s.pad);
    let padded_len = if s.pad > 0 { s.n * hp * wp * s.cin } else { 0 };
    let out_pixels = s.n * s.oh() * s.ow();
    super::grow_scratch(scratch, taps * cop + out_pixels * cop + padded_len);
    let (sums, rest) = scratch.split_at_mut(taps * cop);
    let (dyp, rest) = rest.split_at_mut(out_pixels * cop);
    sums.fill(0.0);
    pad_channels(dy, s.cout, dyp);
    let xp = padded_input(s, Input::One(x), &mut rest[..padded_len]);
    let g = GradKernel { s, hp, wp, cop, xp, dy: dyp };
    // Sums kept in registers: CB input channels x NV vectors, with NV loaded dy vectors
    // and one broadcast input.
    match nv {
        1 => g.run::<S, 1, 4>(sums),
        2 => g.run::<S, 2, 4>(sums),
        3 => g.run::<S, 3, 3>(sums),
        4 => g.run::<S, 4, 2>(sums),
        5 => g.run::<S, 5, 1>(sums),
        6 => g.run::<S, 6, 1>(sums),
        7 => g.run::<S, 7, 1>(sums),
        _ => g.run::<S, 8, 1>(sums),
    }
    for (dst, src) in dw.chunks_exact_mut(s.cout).zip(sums.chunks_exact(cop)) {
        for (d, v) in dst.iter_mut().zip(src) {
            *d += v;
        }
    }
}

/// The padded operands of one weight gradient.
struct GradKernel<'a> {
    s: Shape,
    hp: usize,
    wp: usize,
    /// Output channels padded to whole vectors.
    cop: usize,
    /// Padded input `[N, H + 2p, W + 2p, C_in]`.
    xp: &'a [f32],
    /// `dy` with padded channels, `[N, OH, OW, cop]`.
    dy: &'a [f32],
}

impl GradKernel<'_> {
    /// For every output row and kernel tap, the row's sums for `CB` input channels at a
    /// time (then the remainder one by one), added to their rows of `sums`
    /// (`[K * K * C_in, cop]`).
    #[inline(always)]
    unsafe fn run<S: Simd, const NV: usize, const CB: usize>(&self, sums: &mut [f32]) {
        let (oh, ow, cin, kernel, cop) = (self.s.oh(), self.s.ow(), self.s.cin, self.s.kernel, self.cop);
        for n in 0..self.s.n {
            for oy in 0..oh {
                let dy = self.dy.as_ptr().add((n * oh + oy) * ow * cop);
                for ky in 0..kernel {
                    for kx in 0..kernel {
                        // Pixel ox of the row reads input pixel ox + kx of padded row oy + ky.
                        let x = self.xp.as_ptr().add(((n * self.hp + oy + ky) * self.wp + kx) * cin);
                        let tap = (ky * kernel + kx) * cin;
                        let mut c = 0;
                        while c + CB <= cin {
                            Self::row::<S, NV, CB>(ow, cin, cop, x.add(c), dy, sums.as_mut_ptr().add((tap + c) * cop));
                            c += CB;
                        }
                        while c < cin {
                            Self::row::<S, NV, 1>(ow, cin, cop, x.add(c), dy, sums.as_mut_ptr().add((tap + c) * cop));
                            c += 1;
                        }
                    }
                }
            }
        }
    }

    /// `sums[c][..] += sum over ox < ow of x[ox * C_in + c] * dy[ox * cop ..]` for `c < CB`.
    #[inline(always)]
    unsafe fn row<S: Simd, const NV: usize, const CB: usize>(ow: usize, cin: usize, cop: usize, x: *const f32, dy: *const f32, sums: *mut f32) {
        let mut acc = [[S::splat(0.0); NV]; CB];
        for (c, a) in acc.iter_mut().enumerate() {
            for (v, lane) in a.iter_mut().enumerate() {
                *lane = S::load(sums.add(c * cop + v * S::LANES));
            }
        }
        for ox in 0..ow {
            let mut d = [S::splat(0.0); NV];
            for (v, lane) in d.iter_mut().enumerate() {
                *lane = S::load(dy.add(ox * cop + v * S::LANES));
            }
            for (c, a) in acc.iter_mut().enumerate() {
                let xv = S::splat(*x.add(ox * cin + c));
                for (lane, &dl) in a.iter_mut().zip(&d) {
                    *lane = S::madd(xv, dl, *lane);
                }
            }
        }
        for (c, a) in acc.iter().enumerate() {
            for (v, &lane) in a.iter().enumerate() {
                S::store(sums.add(c * cop + v * S::LANES), lane);
            }
        }
    }
}

/// The padded operands of one convolution.
struct Kernel<'a> {
    s: Shape,
    hp: usize,
    wp: usize,
    /// Output channels padded to whole vectors.
    cop: usize,
    /// Padded input `[N, H + 2p, W + 2p, C_in]`.
    xp: &'a [f32],
    /// Weights `[K * K * C_in, cop]`.
    w: &'a [f32],
    /// Bias `[cop]`.
    b: &'a [f32],
    /// Added to the sums before the store (and ReLU): `[N, OH, OW, C_out]`.
    addend: Option<&'a [f32]>,
    relu: bool,
    /// The first output channel this pass computes (0, or a block of a wide layer's).
    block: usize,
}

impl Kernel<'_> {
    /// Every output pixel, with the micro-kernel for the number of output vectors.
    #[inline(always)]
    unsafe fn run_all<S: Simd>(&self, y: &mut [f32]) {
        // Pixels per micro-kernel call: PB x NV sums, NV weight vectors and one broadcast
        // input fit 16 vector registers (AVX2's; AVX-512 has 32, and runs the same blocks;
        // V8 keeps one of wasm's 16 for itself).
        #[cfg(not(target_arch = "wasm32"))]
        match self.cop / S::LANES {
            1 => self.run::<S, 1, 8>(y),
            2 => self.run::<S, 2, 6>(y),
            3 => self.run::<S, 3, 3>(y),
            4 => self.run::<S, 4, 2>(y),
            5 => self.run::<S, 5, 2>(y),
            _ => self.run::<S, 6, 2>(y),
        }
        #[cfg(target_arch = "wasm32")]
        if let Some(per_block) = wasm_block(self.cop / S::LANES, self.s.cout.is_multiple_of(S::LANES)) {
            // Each block a pass over every pixel, with the same input runs (in cache).
            for block in (0..self.cop).step_by(per_block * S::LANES) {
                let k = Kernel { block, ..*self };
                match ((self.cop - block) / S::LANES).min(per_block) {
                    1 => k.run::<S, 1, 8>(y),
                    2 => k.run::<S, 2, 5>(y),
                    3 => k.run::<S, 3, 3>(y),
                    4 => k.run::<S, 4, 2>(y),
                    _ => k.run::<S, 5, 2>(y),
                }
            }
            return;
        }
        #[cfg(target_arch = "wasm32")]
        match self.cop / S::LANES {
            1 => self.run::<S, 1, 8>(y),
            2 => self.run::<S, 2, 5>(y),
            3 => self.run::<S, 3, 3>(y),
            4 => self.run::<S, 4, 2>(y),
            5 => self.run::<S, 5, 1>(y),
            6 => self.run::<S, 6, 1>(y),
            _ => self.run::<S, 10, 1>(y),
        }
    }

    /// Every output row.
    #[inline(always)]
    unsafe fn run<S: Simd, const NV: usize, const PB: usize>(&self, y: &mut [f32]) {
        for n in 0..self.s.n {
            for oy in 0..self.s.oh() {
                self.row::<S, NV, PB>(n, oy, y);
            }
        }
    }

    /// Output row `(n, oy)`, `PB` pixels at a time, then its remainder one by one.
    ///
    /// In wasm a function of its own, called once per row: V8 first runs a module's code
    /// unoptimised and swaps in optimised code only at a function's next call (wasm has no
    /// on-stack replacement), so a kernel inlined into a whole layer's loop would run a
    /// cold page's first layers unoptimised to their end.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(all(target_arch = "wasm32", feature = "relaxed-simd"), target_feature(enable = "simd128,relaxed-simd"))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    unsafe fn row<S: Simd, const NV: usize, const PB: usize>(&self, n: usize, oy: usize, y: &mut [f32]) {
        let ow = self.s.ow();
        let first = (n * self.s.oh() + oy) * ow;
        let mut ox = 0;
        while ox + PB <= ow {
            self.pixels::<S, NV, PB>(n, oy, ox, y, first + ox);
            ox += PB;
        }
        while ox < ow {
            self.pixels::<S, NV, 1>(n, oy, ox, y, first + ox);
            ox += 1;
        }
    }

    /// Output pixels `(n, oy, ox..ox + PB)`, which are pixels `first..first + PB` of `y`.
    ///
    /// Whole vectors are stored: the `cop - C_out` lanes past a pixel's channels land on
    /// the following pixels' (several, where `C_out` is less than a vector), which are
    /// written later (pixels go in increasing order); only
    /// where they would pass the end of `y` does a pixel go through a staging buffer.
    #[inline(always)]
    unsafe fn pixels<S: Simd, const NV: usize, const PB: usize>(&self, n: usize, oy: usize, ox: usize, y: &mut [f32], first: usize) {
        let (cin, kernel, cop) = (self.s.cin, self.s.kernel, self.cop);
        let run = kernel * cin;
        let mut acc = [[S::splat(0.0); NV]; PB];
        for a in acc.iter_mut() {
            for (v, lane) in a.iter_mut().enumerate() {
                *lane = S::load(self.b.as_ptr().add(self.block + v * S::LANES));
            }
        }
        for ky in 0..kernel {
            // The `KW x C_in` taps of kernel row ky for pixel ox are contiguous; pixel
            // ox + p starts p * C_in further on. Bounds: the last pixel's run ends at
            // ((n * hp + oy + ky) * wp + ox + PB - 1 + KW) * C_in <= xp.len().
            let x0 = self.xp.as_ptr().add(((n * self.hp + oy + ky) * self.wp + ox) * cin);
            let w0 = self.w.as_ptr().add(ky * run * cop + self.block);
            for j in 0..run {
                let wr = w0.add(j * cop);
                let mut wv = [S::splat(0.0); NV];
                for (v, lane) in wv.iter_mut().enumerate() {
                    *lane = S::load(wr.add(v * S::LANES));
                }
                for (p, a) in acc.iter_mut().enumerate() {
                    let xv = S::splat(*x0.add(p * cin + j));
                    for (lane, &wl) in a.iter_mut().zip(&wv) {
                        *lane = S::madd(xv, wl, *lane);
                    }
                }
            }
        }
        let cout = self.s.cout;
        // The channels this pass writes: `NV` whole vectors from `block`, past `cout` only
        // for the last block of a layer whose channels are not whole vectors.
        let width = (NV * S::LANES).min(cout - self.block);
        for (p, a) in acc.iter().enumerate() {
            let at = (first + p) * cout + self.block;
            if at + NV * S::LANES <= y.len() {
                // The addend's lanes past this pixel's channels are the following pixels':
                // their sums land where those pixels' stores overwrite them.
                self.store::<S, NV>(a, y.as_mut_ptr().add(at), self.addend.map(|addend| addend.as_ptr().add(at)));
            } else {
                // The image's last pixels: through staging buffers, not past the ends.
                let (mut staging, mut staged) = ([0.0f32; MAX_VECTORS * 16], [0.0f32; MAX_VECTORS * 16]);
                let addend = self.addend.map(|addend| {
                    staged[..width].copy_from_slice(&addend[at..at + width]);
                    staged.as_ptr()
                });
                self.store::<S, NV>(a, staging.as_mut_ptr(), addend);
                y[at..at + width].copy_from_slice(&staging[..width]);
            }
        }
    }

    /// The epilogue of one pixel's sums: the addend's `NV` vectors at `addend` added, ReLU
    /// if asked, stored at `dst`.
    #[inline(always)]
    unsafe fn store<S: Simd, const NV: usize>(&self, sums: &[S::V; NV], dst: *mut f32, addend: Option<*const f32>) {
        for (v, &lane) in sums.iter().enumerate() {
            let lane = match addend {
                Some(src) => S::add(lane, S::load(src.add(v * S::LANES))),
                None => lane,
            };
            let lane = if self.relu { S::relu(lane) } else { lane };
            S::store(dst.add(v * S::LANES), lane);
        }
    }
}

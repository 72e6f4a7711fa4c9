//! Every layer's forward (and backward, where it has one) against numbers from PyTorch.
//!
//! The fixtures in `tests/fixtures/*.json` come from `tests/fixtures/gen_fixtures.py`
//! (float64, fixed seeds; see its header for how to rerun it). They are stored in the
//! engine's layouts (NHWC activations, `[KH, KW, Ci, Co]` conv weights, `[Ci, KH, KW, Co]`
//! transposed-conv weights), so each test loads them, runs the layer in `f64` and compares
//! element by element with a maximum absolute error of [`TOLERANCE`].

use ndarray::{arr0, Array3, Array4, ArrayBase, ArrayD, Data, Dimension, IxDyn};
use serde_json::Value;
use skipscope_engine::layers::batch_norm::BatchNorm;
use skipscope_engine::layers::conv2d::{Conv2d, Conv2dConfig};
use skipscope_engine::layers::conv_transpose2d::{ConvTranspose2d, ConvTranspose2dConfig};
use skipscope_engine::layers::loss::CrossEntropy;
use skipscope_engine::layers::{fuse, max_pool, max_unpool, relu, upsample_bilinear};
use skipscope_engine::param::Param;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Just above the largest error measured, 5.3e-15 (`conv2d_3x3_pad1`'s `dweight`; see
/// `largest_error_over_every_case`): the README's "largest error 5e-15 in f64".
const TOLERANCE: f64 = 1e-14;

/// Every case `gen_fixtures.py` writes; `every_fixture_is_checked` keeps this list honest.
const CASES: &[&str] = &[
    "add",
    "batch_norm",
    "concat",
    "conv2d_1x1",
    "conv2d_3x3_pad1",
    "conv_transpose2d_k2_s2_p0",
    "conv_transpose2d_k4_s2_p1",
    "cross_entropy",
    "max_pool2d",
    "max_unpool2d",
    "relu",
    "upsample_bilinear_5x7",
    "upsample_bilinear_down_3x4",
    "upsample_bilinear_x2",
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// One JSON fixture: the case name, its layer configuration and its named tensors.
struct Fixture {
    case: String,
    config: Value,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Fixture {
    fn load(case: &str) -> Self {
        let path = fixtures_dir().join(format!("{case}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (regenerate with tests/fixtures/gen_fixtures.py)", path.display()));
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(json["case"], case, "{}: the case name inside the file", path.display());
        let mut tensors = BTreeMap::new();
        for (name, t) in json["tensors"].as_object().unwrap_or_else(|| panic!("{case}: no `tensors` object")) {
            let numbers = |key: &str| -> Vec<&Value> { t[key].as_array().unwrap_or_else(|| panic!("{case}.{name}: no `{key}` array")).iter().collect() };
            let shape: Vec<usize> = numbers("shape").iter().map(|v| v.as_u64().expect("shape entries are integers") as usize).collect();
            let data: Vec<f64> = numbers("data").iter().map(|v| v.as_f64().expect("data entries are numbers")).collect();
            assert_eq!(shape.iter().product::<usize>(), data.len(), "{case}.{name}: shape {shape:?} vs {} values", data.len());
            tensors.insert(name.clone(), (shape, data));
        }
        Self { case: case.to_string(), config: json["config"].clone(), tensors }
    }

    fn get(&self, name: &str) -> &(Vec<usize>, Vec<f64>) {
        self.tensors.get(name).unwrap_or_else(|| panic!("{}: the fixture has no tensor `{name}`", self.case))
    }

    fn array(&self, name: &str) -> ArrayD<f64> {
        let (shape, data) = self.get(name);
        ArrayD::from_shape_vec(IxDyn(shape), data.clone()).expect("shape checked on load")
    }

    fn array4(&self, name: &str) -> Array4<f64> {
        self.array(name).into_dimensionality().unwrap_or_else(|_| panic!("{}.{name} is not 4-D", self.case))
    }

    /// Integer-valued tensors (pooling indices, labels) stored as JSON numbers.
    fn integers(&self, name: &str) -> ArrayD<u64> {
        self.array(name).mapv(|v| {
            assert!(v >= 0.0 && v.fract() == 0.0, "{}.{name}: {v} is not a non-negative integer", self.case);
            v as u64
        })
    }

    fn indices(&self, name: &str) -> Array4<u32> {
        self.integers(name).mapv(|v| v as u32).into_dimensionality().expect("indices are 4-D")
    }

    fn config_usize(&self, key: &str) -> usize {
        self.config[key].as_u64().unwrap_or_else(|| panic!("{}: config has no integer `{key}`", self.case)) as usize
    }

    fn shape4(&self, name: &str) -> [usize; 4] {
        self.get(name).0.clone().try_into().unwrap_or_else(|_| panic!("{}.{name} is not 4-D", self.case))
    }
}

/// Compares `got` with the fixture's tensor `name`: same shape, and every element within
/// [`TOLERANCE`]. The message names the case, the tensor and the worst element.
#[track_caller]
fn check<S: Data<Elem = f64>, D: Dimension>(fixture: &Fixture, name: &str, got: &ArrayBase<S, D>) -> f64 {
    let (shape, expected) = fixture.get(name);
    let case = &fixture.case;
    assert_eq!(got.shape(), &shape[..], "{case}: shape of `{name}`");
    let mut worst = (0.0f64, 0usize);
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        let err = (g - e).abs();
        if err > worst.0 || err.is_nan() {
            worst = (if err.is_nan() { f64::INFINITY } else { err }, i);
        }
    }
    let (err, i) = worst;
    println!("{case:>28} {name:<20} max abs error {err:.3e}");
    assert!(
        err <= TOLERANCE,
        "{case}: `{name}` differs from PyTorch by {err:e} at flat index {i} (NHWC) (expected {}, got {}); tolerance {TOLERANCE:e}",
        expected[i],
        got.iter().nth(i).unwrap()
    );
    err
}

// ---- conv2d -------------------------------------------------------------------------

fn conv2d(case: &str) -> f64 {
    let f = Fixture::load(case);
    let config = Conv2dConfig {
        in_channels: f.config_usize("in_channels"),
        out_channels: f.config_usize("out_channels"),
        kernel: f.config_usize("kernel"),
        padding: f.config_usize("padding"),
    };
    let mut conv = Conv2d { config, weight: Param::new(f.array("weight")), bias: Param::new(f.array("bias")) };
    let (y, cache) = conv.forward(&f.array4("x")).unwrap();
    let dx = conv.backward(&cache, f.array4("dy").view());
    worst([check(&f, "y", &y), check(&f, "dx", &dx), check(&f, "dweight", &conv.weight.grad), check(&f, "dbias", &conv.bias.grad)])
}

#[test]
fn conv2d_3x3_pad1() {
    conv2d("conv2d_3x3_pad1");
}

#[test]
fn conv2d_1x1() {
    conv2d("conv2d_1x1");
}

// ---- conv_transpose2d ---------------------------------------------------------------

fn conv_transpose2d(case: &str) -> f64 {
    let f = Fixture::load(case);
    let config = ConvTranspose2dConfig {
        in_channels: f.config_usize("in_channels"),
        out_channels: f.config_usize("out_channels"),
        kernel: f.config_usize("kernel"),
        stride: f.config_usize("stride"),
        padding: f.config_usize("padding"),
    };
    let mut layer = ConvTranspose2d { config, weight: Param::new(f.array("weight")), bias: Param::new(f.array("bias")) };
    let (y, cache) = layer.forward(&f.array4("x")).unwrap();
    let dx = layer.backward(&cache, f.array4("dy").view());
    worst([check(&f, "y", &y), check(&f, "dx", &dx), check(&f, "dweight", &layer.weight.grad), check(&f, "dbias", &layer.bias.grad)])
}

#[test]
fn conv_transpose2d_k4_s2_p1() {
    conv_transpose2d("conv_transpose2d_k4_s2_p1");
}

#[test]
fn conv_transpose2d_k2_s2_p0() {
    conv_transpose2d("conv_transpose2d_k2_s2_p0");
}

// ---- pooling and unpooling ----------------------------------------------------------

#[test]
fn max_pool2d_with_ties() {
    run_max_pool2d_with_ties();
}

fn run_max_pool2d_with_ties() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("max_pool2d");
    let x = f.array4("x");
    let (y, indices) = max_pool::forward(&x).unwrap();
    errors.push(check(&f, "y", &y));
    errors.push(check(&f, "indices", &indices.mapv(f64::from)));
    // Compare the recorded positions exactly, not just within the tolerance.
    assert_eq!(indices, f.indices("indices"), "max_pool2d: indices (ties go to the first maximum)");
    let dx = max_pool::backward(f.indices("indices").view(), f.array4("dy").view(), f.shape4("x"));
    errors.push(check(&f, "dx", &dx));
    worst(errors)
}

#[test]
fn max_unpool2d() {
    run_max_unpool2d();
}

fn run_max_unpool2d() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("max_unpool2d");
    let indices = f.indices("indices");
    let y = max_unpool::forward(&f.array4("x"), &indices, f.shape4("y")).unwrap();
    errors.push(check(&f, "y", &y));
    let dx = max_unpool::backward(indices.view(), f.array4("dy").view());
    errors.push(check(&f, "dx", &dx));
    worst(errors)
}

// ---- bilinear resizing --------------------------------------------------------------

fn bilinear(case: &str) -> f64 {
    let f = Fixture::load(case);
    let [_, oh, ow, _] = f.shape4("y");
    let out: Vec<usize> = f.config["out_size"].as_array().expect("out_size").iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(out, vec![oh, ow], "{case}: out_size in the config");
    let y = upsample_bilinear::forward(&f.array4("x"), oh, ow);
    let dx = upsample_bilinear::backward(f.array4("dy").view(), f.shape4("x"));
    worst([check(&f, "y", &y), check(&f, "dx", &dx)])
}

#[test]
fn upsample_bilinear_x2() {
    bilinear("upsample_bilinear_x2");
}

#[test]
fn upsample_bilinear_5x7() {
    bilinear("upsample_bilinear_5x7");
}

#[test]
fn upsample_bilinear_down_3x4() {
    bilinear("upsample_bilinear_down_3x4");
}

// ---- batch norm ---------------------------------------------------------------------

#[test]
fn batch_norm_train_and_eval() {
    run_batch_norm_train_and_eval();
}

fn run_batch_norm_train_and_eval() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("batch_norm");
    let mut bn = BatchNorm {
        gamma: Param::new(f.array("gamma")),
        beta: Param::new(f.array("beta")),
        running_mean: f.array("running_mean"),
        running_var: f.array("running_var"),
    };
    let (y, cache) = bn.forward_train(f.array4("x"));
    errors.push(check(&f, "y", &y));
    errors.push(check(&f, "running_mean_after", &bn.running_mean));
    errors.push(check(&f, "running_var_after", &bn.running_var));
    let dx = bn.backward(&cache, f.array4("dy"));
    errors.push(check(&f, "dx", &dx));
    errors.push(check(&f, "dgamma", &bn.gamma.grad));
    errors.push(check(&f, "dbeta", &bn.beta.grad));

    // Eval mode uses PyTorch's running statistics after the training step.
    bn.running_mean = f.array("running_mean_after");
    bn.running_var = f.array("running_var_after");
    let mut y_eval = f.array4("x_eval");
    bn.forward_eval_inplace(y_eval.view_mut());
    errors.push(check(&f, "y_eval", &y_eval));
    worst(errors)
}

// ---- relu and fusion ----------------------------------------------------------------

#[test]
fn relu_with_exact_zeros() {
    run_relu_with_exact_zeros();
}

fn run_relu_with_exact_zeros() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("relu");
    let mut y = f.array4("x");
    relu::forward_inplace(y.view_mut());
    errors.push(check(&f, "y", &y));
    let dx = relu::backward(y.view(), f.array4("dy").view());
    errors.push(check(&f, "dx", &dx));
    worst(errors)
}

#[test]
fn concat_channels() {
    run_concat_channels();
}

fn run_concat_channels() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("concat");
    let (a, b) = (f.array4("a"), f.array4("b"));
    let y = fuse::concat(&a, &b).unwrap();
    errors.push(check(&f, "y", &y));
    let (da, db) = fuse::concat_backward(f.array4("dy").view(), a.dim().3);
    errors.push(check(&f, "da", &da));
    errors.push(check(&f, "db", &db));
    worst(errors)
}

#[test]
fn add() {
    run_add();
}

fn run_add() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("add");
    let y = fuse::add(&f.array4("a"), &f.array4("b")).unwrap();
    errors.push(check(&f, "y", &y));
    worst(errors)
}

// ---- loss ---------------------------------------------------------------------------

#[test]
fn cross_entropy_weighted_with_ignore_index() {
    run_cross_entropy_weighted_with_ignore_index();
}

fn run_cross_entropy_weighted_with_ignore_index() -> f64 {
    let mut errors = Vec::new();
    let f = Fixture::load("cross_entropy");
    let ignore = f.config_usize("ignore_index");
    let labels: Array3<u8> = f.integers("labels").mapv(|v| u8::try_from(v).expect("labels fit u8")).into_dimensionality().expect("labels are [N, H, W]");
    assert!(labels.iter().any(|&l| l as usize == ignore), "the fixture exercises the ignore label");
    let ce = CrossEntropy { class_weights: f.array("class_weights").iter().copied().collect(), ignore_label: Some(ignore as u8) };
    let (loss, dlogits) = ce.forward_backward(f.array4("logits").view(), labels.view()).unwrap();
    errors.push(check(&f, "loss", &arr0(loss)));
    errors.push(check(&f, "dlogits", &dlogits));
    worst(errors)
}

// ---- the harness itself -------------------------------------------------------------

fn worst(errors: impl IntoIterator<Item = f64>) -> f64 {
    errors.into_iter().fold(0.0, f64::max)
}

/// Runs one case of [`CASES`], returning its largest error.
fn run(case: &str) -> f64 {
    match case {
        "add" => run_add(),
        "batch_norm" => run_batch_norm_train_and_eval(),
        "concat" => run_concat_channels(),
        "cross_entropy" => run_cross_entropy_weighted_with_ignore_index(),
        "max_pool2d" => run_max_pool2d_with_ties(),
        "max_unpool2d" => run_max_unpool2d(),
        "relu" => run_relu_with_exact_zeros(),
        c if c.starts_with("conv2d_") => conv2d(c),
        c if c.starts_with("conv_transpose2d_") => conv_transpose2d(c),
        c if c.starts_with("upsample_bilinear_") => bilinear(c),
        other => panic!("no runner for the case {other}"),
    }
}

/// The README's figure: the largest error over every tensor of every case, printed
/// (5.3e-15 when [`TOLERANCE`] was set).
#[test]
fn largest_error_over_every_case() {
    let (case, largest) = CASES.iter().map(|case| (*case, run(case))).fold(("", 0.0), |a, b| if b.1 > a.1 { b } else { a });
    eprintln!("largest error against PyTorch: {largest:.3e} ({case}); tolerance {TOLERANCE:e}");
    assert!(largest <= TOLERANCE);
}

#[test]
fn every_fixture_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
        .collect();
    found.sort();
    assert_eq!(found, CASES, "fixtures on disk vs the cases this file checks");
    for case in CASES {
        Fixture::load(case);
    }
}

#[test]
#[should_panic(expected = "conv2d_1x1: `y` differs from PyTorch")]
fn check_rejects_a_small_mismatch() {
    let f = Fixture::load("conv2d_1x1");
    let mut y = f.array("y");
    y[[1, 2, 3, 1]] += 10.0 * TOLERANCE;
    check(&f, "y", &y);
}

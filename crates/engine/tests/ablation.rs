//! `Model::infer_ablated`: switching a skip off at inference equals running the same model
//! with that skip's term made zero by its weights (add: a zero 1x1 projection, bias included;
//! concat: zero weights for the encoder map's channels in the block's first convolution), and
//! it changes the output.

use ndarray::{Array4, ArrayView4};
use skipscope_engine::model::Workspace;
use skipscope_engine::param::Module;
use skipscope_engine::rng::Rng;
use skipscope_engine::{Model, ModelConfig, Skip, Upsample};

fn model(upsample: Upsample, skip: Skip) -> Model<f64> {
    let config = ModelConfig { in_channels: 3, n_classes: 4, depth: 3, width: 4, upsample, skip };
    let mut m = Model::<f64>::new(config, 11).unwrap();
    m.fold_batch_norm();
    m
}

fn input() -> Array4<f64> {
    let mut rng = Rng::new(5);
    Array4::from_shape_fn((1, 24, 40, 3), |_| rng.normal())
}

fn scores(m: &Model<f64>, x: ArrayView4<f64>, ablated: &[bool]) -> Array4<f64> {
    let mut ws = Workspace::new();
    m.infer_ablated(x, &mut ws, ablated).unwrap().to_owned()
}

fn max_diff(a: &Array4<f64>, b: &Array4<f64>) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

#[test]
fn ablating_every_add_level_equals_zero_skip_terms() {
    for upsample in Upsample::ALL {
        let m = model(upsample, Skip::Add);
        let x = input();
        let full = scores(&m, x.view(), &[]);
        let ablated = scores(&m, x.view(), &[true; 3]);
        let mut zeroed = m.clone();
        zeroed.visit_params("", &mut |name, p| {
            if name.contains(".proj.") {
                p.value.fill(0.0);
            }
        });
        let reference = scores(&zeroed, x.view(), &[]);
        assert!(max_diff(&ablated, &reference) < 1e-12, "{upsample}: {}", max_diff(&ablated, &reference));
        assert!(max_diff(&ablated, &full) > 1e-6, "{upsample}: ablation changed nothing");
        // No flags, or all false, is the model as trained (bit for bit).
        assert_eq!(scores(&m, x.view(), &[false; 3]), full);
    }
}

#[test]
fn ablating_one_level_zeroes_only_that_level() {
    for skip in [Skip::Add, Skip::Concat] {
        let m = model(Upsample::Bilinear, skip);
        let x = input();
        for k in 0..3 {
            let mut flags = [false; 3];
            flags[k] = true;
            let mut zeroed = m.clone();
            let c = m.config.channels(k);
            zeroed.visit_params("", &mut |name, p| {
                if skip == Skip::Add && name.starts_with(&format!("dec.{k}.proj.")) {
                    p.value.fill(0.0);
                }
                // conv1's weights `[3, 3, 2C, C_out]`: input channels C.. are the encoder map's.
                if skip == Skip::Concat && name == format!("dec.{k}.conv1.weight") {
                    p.value.slice_each_axis_mut(|ax| if ax.axis.index() == 2 { ndarray::Slice::from(c..) } else { ndarray::Slice::from(..) }).fill(0.0);
                }
            });
            let want = scores(&zeroed, x.view(), &[]);
            let got = scores(&m, x.view(), &flags);
            assert!(max_diff(&got, &want) < 1e-12, "{skip} level {k}");
            assert!(max_diff(&got, &scores(&m, x.view(), &[])) > 1e-6, "{skip} level {k} changed nothing");
        }
    }
}

#[test]
fn a_model_without_skip_ignores_the_flags_and_too_many_flags_are_refused() {
    let m = model(Upsample::Unpool, Skip::None);
    let x = input();
    assert_eq!(scores(&m, x.view(), &[true; 3]), scores(&m, x.view(), &[]));
    let mut ws = Workspace::new();
    assert!(m.infer_ablated(x.view(), &mut ws, &[true; 4]).is_err());
}

//! The model family as a whole: all nine variants, their stage traces, whole-model
//! gradients against central differences, batch-norm folding and buffer reuse.

use ndarray::{Array3, Array4};
use skipscope_engine::gradcheck::{central_difference, max_relative_error, random, sample_indices};
use skipscope_engine::layers::loss::CrossEntropy;
use skipscope_engine::model::{StageKind, Workspace};
use skipscope_engine::param::Module;
use skipscope_engine::rng::Rng;
use skipscope_engine::{stage_names, EngineError, Model, ModelConfig, Skip, Upsample};

fn variants() -> impl Iterator<Item = (Upsample, Skip)> {
    Upsample::ALL.into_iter().flat_map(|u| Skip::ALL.into_iter().map(move |s| (u, s)))
}

fn tiny(upsample: Upsample, skip: Skip) -> ModelConfig {
    ModelConfig { in_channels: 3, n_classes: 3, depth: 2, width: 2, upsample, skip }
}

/// Cross-entropy of the training forward, and the model whose grads hold its gradient.
fn loss(model: &mut Model<f64>, x: &Array4<f64>, labels: &Array3<u8>) -> f64 {
    let (scores, _) = model.forward_train(x).unwrap();
    CrossEntropy::unweighted(3).forward_backward(scores.view(), labels.view()).unwrap().0
}

#[test]
fn every_variant_matches_central_differences() {
    for (upsample, skip) in variants() {
        let config = tiny(upsample, skip);
        let mut rng = Rng::new(21);
        let mut model = Model::<f64>::new(config, 5).unwrap();
        // Random batch-norm affine parameters, so no gradient is trivially symmetric.
        model.visit_params("", &mut |name, p| {
            if name.contains(".bn") {
                p.value.mapv_inplace(|v| v + 0.3 * rng.normal());
            }
        });
        let x = random(ndarray::Ix4(2, 8, 8, 3), &mut rng);
        let labels = Array3::from_shape_fn((2, 8, 8), |_| rng.below(3) as u8);

        let (scores, cache) = model.forward_train(&x).unwrap();
        let (_, d_scores) = CrossEntropy::unweighted(3).forward_backward(scores.view(), labels.view()).unwrap();
        model.zero_grad();
        let dx = model.backward(&cache, d_scores.view());

        let mut analytic = Vec::new();
        let mut names = Vec::new();
        model.visit_params("", &mut |name, p| {
            names.push(name.to_string());
            analytic.push(p.grad.clone());
        });
        for (i, name) in names.iter().enumerate() {
            if name.contains(".conv") && name.ends_with(".bias") {
                // A bias feeding a training-mode batch norm is removed with the batch mean:
                // its gradient is exactly zero, and finite differences would only see noise.
                assert!(analytic[i].iter().all(|g| g.abs() < 1e-9), "{}: d{name} should vanish", config.variant());
                continue;
            }
            let indices = sample_indices(analytic[i].len(), 6);
            let numeric = central_difference(&indices, |at, d| {
                let mut moved = model.clone();
                let mut seen = 0;
                moved.visit_params("", &mut |_, p| {
                    if seen == i {
                        p.value.as_slice_mut().unwrap()[at] += d;
                    }
                    seen += 1;
                });
                loss(&mut moved, &x, &labels)
            });
            let picked: Vec<f64> = indices.iter().map(|&j| analytic[i].as_slice().unwrap()[j]).collect();
            let err = max_relative_error(&picked, &numeric);
            assert!(err < 1e-4, "{}: d{name} relative error {err:.2e}", config.variant());
        }
        let indices = sample_indices(x.len(), 24);
        let numeric = central_difference(&indices, |at, d| {
            let mut moved = x.clone();
            moved.as_slice_mut().unwrap()[at] += d;
            loss(&mut model.clone(), &moved, &labels)
        });
        let picked: Vec<f64> = indices.iter().map(|&j| dx.as_slice().unwrap()[j]).collect();
        let err = max_relative_error(&picked, &numeric);
        assert!(err < 1e-4, "{}: dx relative error {err:.2e}", config.variant());
    }
}

#[test]
fn variants_share_stage_names_and_shapes() {
    let mut reference: Option<Vec<(String, StageKind, Vec<usize>)>> = None;
    for (upsample, skip) in variants() {
        let config = ModelConfig { depth: 3, width: 4, n_classes: 5, ..tiny(upsample, skip) };
        let model = Model::<f32>::new(config, 1).unwrap();
        let x = Array4::from_shape_fn((1, 16, 24, 3), |(_, i, j, c)| ((i * 7 + j * 3 + c) % 11) as f32 / 11.0);
        let stages = model.forward_traced(x.view()).unwrap();
        let summary: Vec<_> = stages.iter().map(|s| (s.name.clone(), s.kind, s.data.shape().to_vec())).collect();
        let names: Vec<&str> = summary.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            names,
            ["input", "enc.0", "pool.0", "enc.1", "pool.1", "enc.2", "pool.2", "bottleneck", "dec.2", "dec.1", "dec.0", "head"],
            "{}",
            config.variant()
        );
        assert_eq!(names, stage_names(config.depth), "the trace names its stages by stage_names");
        for s in &stages {
            assert_eq!(s.data.shape()[1], 16 >> s.level, "{} {} height", config.variant(), s.name);
            assert_eq!(s.indices.is_some(), s.kind == StageKind::Pool, "{} {}", config.variant(), s.name);
            if let Some(parts) = &s.parts {
                let c = config.channels(s.level);
                assert_eq!(parts.upsampled.shape(), &[1, 16 >> s.level, 24 >> s.level, c]);
                let fused_c = if skip == Skip::Concat { 2 * c } else { c };
                assert_eq!(parts.fused.shape()[3], fused_c, "{} {}", config.variant(), s.name);
                assert_eq!(parts.skip.is_some(), skip != Skip::None);
            }
        }
        let head = stages.last().unwrap();
        for px in head.data.rows() {
            assert!((px.sum() - 1.0).abs() < 1e-5, "probabilities sum to one");
        }
        match &reference {
            None => reference = Some(summary),
            Some(r) => assert_eq!(r, &summary, "{} differs from the first variant", config.variant()),
        }
    }
}

#[test]
fn traced_scores_equal_infer() {
    for (upsample, skip) in variants() {
        let model = Model::<f32>::new(tiny(upsample, skip), 3).unwrap();
        let x = Array4::from_shape_fn((1, 8, 12, 3), |(_, i, j, c)| (i as f32 - j as f32 + c as f32) / 10.0);
        let mut ws = Workspace::new();
        let mut scores = model.infer(x.view(), &mut ws).unwrap().to_owned();
        skipscope_engine::layers::loss::softmax_inplace(scores.view_mut());
        let traced = model.forward_traced(x.view()).unwrap().pop().unwrap().data;
        let err = (&scores - &traced).iter().fold(0f32, |a, b| a.max(b.abs()));
        assert!(err < 1e-6, "{}: {err}", tiny(upsample, skip).variant());
    }
}

#[test]
fn a_traced_pass_steps_a_level_at_a_time() {
    let config = ModelConfig { depth: 3, ..tiny(Upsample::Transposed, Skip::Concat) };
    let model = Model::<f32>::new(config, 4).unwrap();
    let x = Array4::from_shape_fn((1, 8, 16, 3), |(_, i, j, c)| ((i * 5 + j + c) % 9) as f32 / 9.0);
    let mut pass = skipscope_engine::model::TracedPass::new(&model, x.clone()).unwrap();
    let mut per_step = Vec::new();
    let mut names = Vec::new();
    while !pass.is_done() {
        let stages = pass.step(&model).unwrap();
        per_step.push(stages.len());
        names.extend(stages.into_iter().map(|s| s.name));
    }
    // The input with the first encoder level, then a stage a step: each pooling and encoder
    // level, the bottleneck, each decoder level, the head.
    assert_eq!(per_step, [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(names, skipscope_engine::stage_names(3));
    assert!(pass.step(&model).is_err(), "a pass done steps no further");
    let other = Model::<f32>::new(ModelConfig { width: 3, ..config }, 4).unwrap();
    let mut pass = skipscope_engine::model::TracedPass::new(&model, x).unwrap();
    assert!(pass.step(&other).is_err(), "a pass steps only with the model it started with");
}

#[test]
fn unpooling_puts_values_only_where_the_maxima_were() {
    let model = Model::<f32>::new(tiny(Upsample::Unpool, Skip::None), 3).unwrap();
    let x = Array4::from_shape_fn((1, 8, 8, 3), |(_, i, j, c)| ((i * 5 + j * 3 + c) % 7) as f32);
    let stages = model.forward_traced(x.view()).unwrap();
    let indices = stages.iter().find(|s| s.name == "pool.0").unwrap().indices.clone().unwrap();
    let dec0 = stages.iter().find(|s| s.name == "dec.0").unwrap();
    let up = &dec0.parts.as_ref().unwrap().upsampled;
    let mut nonzero = 0;
    for ((_, y, x, c), &v) in up.indexed_iter() {
        if v != 0.0 {
            nonzero += 1;
            assert_eq!(indices[[0, y / 2, x / 2, c]] as usize, y * 8 + x, "a value away from its recorded maximum at ({y}, {x}, {c})");
        }
    }
    assert!(nonzero > 0, "the unpooled map is not empty");
}

#[test]
fn input_sizes_must_be_multiples_of_two_to_the_depth() {
    let model = Model::<f32>::new(tiny(Upsample::Bilinear, Skip::Add), 1).unwrap();
    let err = model.forward_traced(Array4::zeros((1, 10, 8, 3)).view()).unwrap_err();
    assert_eq!(err, EngineError::InputSize { height: 10, width: 8, multiple: 4 });
    assert!(err.to_string().contains("multiples of 4"));
    let err = model.forward_traced(Array4::zeros((1, 8, 8, 4)).view()).unwrap_err();
    assert!(matches!(err, EngineError::Shape { .. }), "{err}");
}

#[test]
fn invalid_configs_are_errors() {
    for bad in [
        ModelConfig { depth: 0, ..tiny(Upsample::Unpool, Skip::None) },
        ModelConfig { width: 0, ..tiny(Upsample::Unpool, Skip::None) },
        ModelConfig { n_classes: 1, ..tiny(Upsample::Unpool, Skip::None) },
        ModelConfig { n_classes: 300, ..tiny(Upsample::Unpool, Skip::None) },
    ] {
        assert!(matches!(Model::<f32>::new(bad, 0), Err(EngineError::Config(_))), "{bad:?}");
    }
}

/// Within 1e-5 relative to the largest score (f32 rounding grows with the scores).
#[test]
fn parameter_count_is_what_the_visitor_sees() {
    for (upsample, skip) in variants() {
        for (depth, width, n_classes) in [(1, 2, 2), (2, 3, 5), (4, 8, 11)] {
            let config = ModelConfig { depth, width, n_classes, ..tiny(upsample, skip) };
            let mut model = Model::<f32>::new(config, 1).unwrap();
            let mut visited = 0;
            model.visit_params("", &mut |_, p| visited += p.value.len());
            assert_eq!(model.parameter_count(), visited, "{} depth {depth} width {width}", config.variant());
            model.fold_batch_norm();
            assert_eq!(model.parameter_count(), visited, "{}: the count of the trained network, also once folded", config.variant());
        }
    }
}

#[test]
fn folded_batch_norm_equals_unfolded() {
    for (upsample, skip) in variants() {
        let config = ModelConfig { depth: 3, width: 4, n_classes: 5, ..tiny(upsample, skip) };
        let mut model = Model::<f32>::new(config, 9).unwrap();
        let mut rng = Rng::new(4);
        // Non-trivial running statistics and affine parameters.
        model.visit("", &mut |name, mut t| {
            let t = t.value();
            if name.contains(".bn") {
                let positive = name.ends_with("running_var");
                t.mapv_inplace(|v| if positive { 0.5 + rng.uniform() as f32 } else { v + 0.5 * rng.normal() as f32 });
            }
        });
        let x = Array4::from_shape_fn((1, 16, 16, 3), |(_, i, j, c)| ((i * 3 + j * 5 + c * 7) % 13) as f32 / 13.0 - 0.5);
        let mut ws = Workspace::new();
        let unfolded = model.infer(x.view(), &mut ws).unwrap().to_owned();
        let mut folded_model = model.clone();
        folded_model.fold_batch_norm();
        let folded = folded_model.infer(x.view(), &mut ws).unwrap().to_owned();
        let err = (&folded - &unfolded).iter().fold(0f32, |a, b| a.max(b.abs()));
        let scale = unfolded.iter().fold(1f32, |a, b| a.max(b.abs()));
        assert!(err / scale < 1e-5, "{}: folded differs by {err} on scores up to {scale}", config.variant());
    }
}

#[test]
fn warm_inference_takes_no_new_buffers() {
    for (upsample, skip) in variants() {
        let mut model = Model::<f32>::new(tiny(upsample, skip), 2).unwrap();
        model.fold_batch_norm();
        let x = Array4::from_elem((1, 16, 16, 3), 0.5f32);
        let mut ws = Workspace::new();
        model.infer(x.view(), &mut ws).unwrap();
        let warm = ws.allocations();
        assert!(warm > 0);
        for _ in 0..3 {
            model.infer(x.view(), &mut ws).unwrap();
        }
        assert_eq!(ws.allocations(), warm, "{}", tiny(upsample, skip).variant());
    }
}

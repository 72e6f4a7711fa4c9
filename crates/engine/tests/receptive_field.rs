//! `receptive_field` against the engine itself, in all nine variants, at every stage: changing
//! an input pixel outside a value's field never changes that value (to the bit), and each of
//! the field's four edges holds a pixel whose change does (for max unpooling's decoder stages
//! only the first: where a deep value lands is decided by the data).

use ndarray::Array4;
use skipscope_engine::param::Module;
use skipscope_engine::receptive_field::receptive_fields;
use skipscope_engine::rng::Rng;
use skipscope_engine::{Model, ModelConfig, Upsample, Variant};

const H: usize = 32;
const W: usize = 40;

#[test]
fn fields_are_exact_supports_in_every_variant() {
    for variant in Variant::all() {
        let config = ModelConfig { in_channels: 1, n_classes: 3, depth: 2, width: 4, upsample: variant.upsample, skip: variant.skip };
        let mut model = Model::<f64>::new(config, 7).unwrap();
        // Positive biases keep most ReLUs open, so that an edge pixel's one path of edge taps
        // reaches the value (with random biases a closed ReLU on that path can hide it).
        model.visit_params("", &mut |name, p| {
            if name.ends_with(".bias") {
                p.value.fill(3.0);
            }
        });
        model.fold_batch_norm();
        let mut rng = Rng::new(3);
        let x = Array4::from_shape_fn((1, H, W, 1), |_| rng.normal());
        let base = model.forward_traced(x.view()).unwrap();
        let fields = receptive_fields(&config, H, W);
        // For every stage, the positions probed: a corner, an edge and an inner one.
        let probes: Vec<Vec<(usize, usize)>> = base
            .iter()
            .map(|s| {
                let (h, w) = (s.data.dim().1, s.data.dim().2);
                vec![(0, 0), (h - 1, w / 2), (h / 2, w - 1), (h / 2, (w - 1) / 2)]
            })
            .collect();
        // changed[stage][probe]: the input pixels whose change moved that value.
        let mut changed = vec![vec![Vec::new(); 4]; base.len()];
        for py in 0..H {
            for px in 0..W {
                for delta in [-40.0, 40.0] {
                    let mut xp = x.clone();
                    xp[[0, py, px, 0]] += delta;
                    let stages = model.forward_traced(xp.view()).unwrap();
                    for (s, (after, before)) in stages.iter().zip(&base).enumerate() {
                        for (p, &(y, xx)) in probes[s].iter().enumerate() {
                            let moved = (0..after.data.dim().3).any(|c| after.data[[0, y, xx, c]] != before.data[[0, y, xx, c]]);
                            if moved && !changed[s][p].contains(&(py, px)) {
                                changed[s][p].push((py, px));
                            }
                        }
                    }
                }
            }
        }
        for (s, field) in fields.iter().enumerate() {
            assert_eq!(field.name, base[s].name);
            for (p, &(y, x)) in probes[s].iter().enumerate() {
                let (rows, cols) = field.region(y, x);
                let hits = &changed[s][p];
                for &(py, px) in hits {
                    assert!(
                        rows.lo <= py && py <= rows.hi && cols.lo <= px && px <= cols.hi,
                        "{variant} {} ({y}, {x}): input ({py}, {px}) moved it, outside rows {rows:?} cols {cols:?}",
                        field.name
                    );
                }
                if variant.upsample == Upsample::Unpool && (field.name.starts_with("dec.") || field.name == "head") {
                    // Max unpooling places each deep value at its window's argmax, decided by
                    // the data: its field is what the value may depend on, not always does.
                    continue;
                }
                let edge = |f: &dyn Fn(&(usize, usize)) -> bool| hits.iter().any(f);
                assert!(edge(&|h| h.0 == rows.lo) && edge(&|h| h.0 == rows.hi), "{variant} {} ({y}, {x}): rows {rows:?} wider than what moves it", field.name);
                assert!(edge(&|h| h.1 == cols.lo) && edge(&|h| h.1 == cols.hi), "{variant} {} ({y}, {x}): cols {cols:?} wider than what moves it", field.name);
            }
        }
    }
}

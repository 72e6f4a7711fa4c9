//! The engine and the worker's computation, compiled to wasm and run in headless Chromium:
//! `cargo test --release --target wasm32-unknown-unknown -p skipscope`.
#![cfg(target_arch = "wasm32")]

use gloo_worker::{Bincode, Codec};
use ndarray::s;
use skipscope::protocol::{MapShape, ModelSummary, Request, Response, StageSummary, TraceRequest};
use skipscope::state::{Action, State, Status};
use skipscope::trace::{gradient_image, Tracer};
use skipscope_engine::model::StageKind;
use skipscope_engine::{EngineError, Model, ModelConfig, Skip, Upsample};
use std::rc::Rc;
use wasm_bindgen_test::*;
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

const H: usize = 16;
const W: usize = 24;

fn tiny(upsample: Upsample, skip: Skip) -> ModelConfig {
    ModelConfig { in_channels: 3, n_classes: 5, depth: 2, width: 4, upsample, skip }
}

fn variants() -> impl Iterator<Item = ModelConfig> {
    Upsample::ALL.into_iter().flat_map(|u| Skip::ALL.into_iter().map(move |s| tiny(u, s)))
}

/// Every stage of `tiny(..)` on a 16 x 24 input: name, kind, level, C x H x W. The same
/// for all nine variants.
const EXPECTED: [(&str, StageKind, usize, [usize; 3]); 9] = [
    ("input", StageKind::Input, 0, [3, 16, 24]),
    ("enc.0", StageKind::Encoder, 0, [4, 16, 24]),
    ("pool.0", StageKind::Pool, 1, [4, 8, 12]),
    ("enc.1", StageKind::Encoder, 1, [8, 8, 12]),
    ("pool.1", StageKind::Pool, 2, [8, 4, 6]),
    ("bottleneck", StageKind::Bottleneck, 2, [8, 4, 6]),
    ("dec.1", StageKind::Decoder, 1, [4, 8, 12]),
    ("dec.0", StageKind::Decoder, 0, [4, 16, 24]),
    ("head", StageKind::Head, 0, [5, 16, 24]),
];

fn chw<T>(a: &ndarray::Array4<T>) -> [usize; 3] {
    let (n, h, w, c) = a.dim();
    assert_eq!(n, 1, "batch");
    [c, h, w]
}

#[wasm_bindgen_test]
fn all_nine_variants_trace_the_same_stages_with_the_expected_shapes() {
    let x = gradient_image(H, W, 3);
    for config in variants() {
        let v = config.variant();
        let stages = Model::<f32>::new(config, 7).unwrap().forward_traced(x.view()).unwrap();
        let got: Vec<(&str, StageKind, usize, [usize; 3])> = stages.iter().map(|s| (s.name.as_str(), s.kind, s.level, chw(&s.data))).collect();
        assert_eq!(got, EXPECTED, "{v}");
        for s in &stages {
            assert_eq!(s.indices.is_some(), s.kind == StageKind::Pool, "{v} {}: indices only on pools", s.name);
            assert_eq!(s.parts.is_some(), s.kind == StageKind::Decoder, "{v} {}: parts only on decoders", s.name);
            if let Some(p) = &s.parts {
                let [c, h, w] = chw(&p.upsampled);
                let c_k = if s.name == "dec.1" { 8 } else { 4 };
                assert_eq!([c, h, w], [c_k, s.data.dim().1, s.data.dim().2], "{v} {}: upsampled", s.name);
                let (skip, fused_c) = match config.skip {
                    Skip::None => (None, c_k),
                    Skip::Add => (Some([c_k, h, w]), c_k),
                    Skip::Concat => (Some([c_k, h, w]), 2 * c_k),
                };
                assert_eq!(p.skip.as_ref().map(chw), skip, "{v} {}: skip term", s.name);
                assert_eq!(chw(&p.fused), [fused_c, h, w], "{v} {}: fused", s.name);
            }
        }
    }
}

#[wasm_bindgen_test]
fn head_probabilities_sum_to_one_per_pixel() {
    let x = gradient_image(H, W, 3);
    for config in variants() {
        let stages = Model::<f32>::new(config, 3).unwrap().forward_traced(x.view()).unwrap();
        let head = &stages.last().unwrap().data;
        assert_eq!(head.dim(), (1, H, W, 5));
        for (y, x) in (0..H).flat_map(|y| (0..W).map(move |x| (y, x))) {
            let p = head.slice(s![0, y, x, ..]);
            assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)), "{}: pixel ({y}, {x}) has {p}", config.variant());
            let sum: f32 = p.sum();
            assert!((sum - 1.0).abs() < 1e-5, "{}: pixel ({y}, {x}) sums to {sum}", config.variant());
        }
    }
}

#[wasm_bindgen_test]
fn a_side_that_is_not_a_multiple_of_two_to_the_depth_is_an_error() {
    let config = tiny(Upsample::Unpool, Skip::Concat);
    let model = Model::<f32>::new(config, 1).unwrap();
    let x = gradient_image(18, W, 3);
    let err = model.forward_traced(x.view()).unwrap_err();
    assert_eq!(err, EngineError::InputSize { height: 18, width: W, multiple: 4 });

    let mut responses = Vec::new();
    let request = TraceRequest { run: 9, config, seed: 1, height: H, width: 30 };
    Tracer::new().run(&request, &|| 0.0, &mut |r| responses.push(r));
    match responses.as_slice() {
        [Response::Failed { run: 9, message }] => assert!(message.contains("16x30") && message.contains("multiples of 4"), "{message}"),
        other => panic!("expected one Failed response, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn the_tracer_reports_started_every_stage_then_finished_and_reuses_the_model() {
    let config = tiny(Upsample::Transposed, Skip::Add);
    let mut tracer = Tracer::new();
    for (run, built) in [(1, true), (2, false)] {
        let mut responses = Vec::new();
        let request = TraceRequest { run, config, seed: 5, height: H, width: W };
        tracer.run(&request, &skipscope::now_ms, &mut |r| responses.push(r));
        assert!(responses.iter().all(|r| r.run() == run), "{responses:?}");
        let Some(Response::Started { model, .. }) = responses.first() else { panic!("{responses:?}") };
        assert_eq!(model.variant, "transposed-add");
        assert!(model.random_weights);
        assert_eq!(model.reused, !built, "{model:?}");
        assert!(model.build_ms >= 0.0, "{model:?}");
        let expected_parameters = Model::<f32>::new(config, 5).unwrap().parameter_count();
        assert_eq!(model.parameters, expected_parameters);
        let stages: Vec<(&str, StageKind, usize, [usize; 3])> = responses[1..responses.len() - 1]
            .iter()
            .map(|r| match r {
                Response::Stage { stage: s, .. } => (s.name.as_str(), s.kind, s.level, [s.shape.channels, s.shape.height, s.shape.width]),
                other => panic!("expected a stage, got {other:?}"),
            })
            .collect();
        assert_eq!(stages, EXPECTED);
        assert!(matches!(responses.last(), Some(Response::Finished { forward_ms, .. }) if *forward_ms >= 0.0), "{responses:?}");
    }
}

fn samples() -> (Vec<Request>, Vec<Response>) {
    let config = ModelConfig { in_channels: 3, n_classes: 11, depth: 4, width: 8, upsample: Upsample::Bilinear, skip: Skip::Concat };
    let requests = vec![Request::Trace(TraceRequest { run: 3, config, seed: u64::MAX, height: 192, width: 256 })];
    let stage = StageSummary { name: "dec.2".into(), kind: StageKind::Decoder, level: 2, shape: MapShape { channels: 16, height: 48, width: 64 }, ms: 1.25 };
    let responses = vec![
        Response::Started {
            run: 3,
            model: ModelSummary { variant: config.variant(), parameters: 389_219, reused: false, build_ms: 12.5, random_weights: true },
        },
        Response::Stage { run: 3, stage },
        Response::Finished { run: 3, forward_ms: 93.5 },
        Response::Failed { run: 4, message: "input is 18x24, but …".into() },
    ];
    (requests, responses)
}

#[wasm_bindgen_test]
fn protocol_messages_round_trip_through_the_worker_codec_and_json() {
    let (requests, responses) = samples();
    for r in &requests {
        assert_eq!(&Bincode::decode::<Request>(Bincode::encode(r)), r);
        assert_eq!(&serde_json::from_str::<Request>(&serde_json::to_string(r).unwrap()).unwrap(), r);
    }
    for r in &responses {
        assert_eq!(&Bincode::decode::<Response>(Bincode::encode(r)), r);
        assert_eq!(&serde_json::from_str::<Response>(&serde_json::to_string(r).unwrap()).unwrap(), r);
    }
    assert_eq!(MapShape { channels: 16, height: 48, width: 64 }.to_string(), "16 x 48 x 64");
}

#[wasm_bindgen_test]
fn the_reducer_shows_only_the_current_run() {
    let (_, responses) = samples();
    let mut state = Rc::new(State::default());
    state = state.reduce(Action::Start { run: 3 });
    assert_eq!(state.status, Status::Running);
    state = state.reduce(Action::Response(Response::Stage {
        run: 2,
        stage: match &responses[1] {
            Response::Stage { stage, .. } => stage.clone(),
            _ => unreachable!(),
        },
    }));
    assert!(state.stages.is_empty(), "a stale run's stage was shown");
    for r in &responses[..3] {
        state = state.reduce(Action::Response(r.clone()));
    }
    assert_eq!(state.model.as_ref().map(|m| m.parameters), Some(389_219));
    assert_eq!(state.stages.len(), 1);
    assert_eq!(state.status, Status::Done { forward_ms: 93.5 });
    state = state.reduce(Action::Response(Response::Failed { run: 3, message: "boom".into() }));
    assert_eq!(state.status, Status::Failed("boom".into()));
    state = state.reduce(Action::Start { run: 4 });
    assert!(state.stages.is_empty() && state.model.is_none() && state.running());
}

//! The engine, the worker's computation, the page's reducer and its pure helpers, compiled
//! to wasm and run in headless Chromium:
//! `cargo test --release --target wasm32-unknown-unknown -p skipscope`.
#![cfg(target_arch = "wasm32")]

use gloo_worker::{Bincode, Codec};
use ndarray::s;
use skipscope::colormap::Scale;
use skipscope::manifest;
use skipscope::masks::{agreement, boundaries, disagreement, overlay};
use skipscope::picture::{fit, label_classes, pad_rgb};
use skipscope::protocol::{Dataset, InputImage, MapShape, Mask, Request, Response, Variant};
use skipscope::state::{Action, Availability, Catalog, State, Weights, ENGINE_STOPPED};
use skipscope::trace::{gradient_image, Engine};
use skipscope_engine::model::StageKind;
use skipscope_engine::weights::{self, ModelMeta, Normalization, Storage};
use skipscope_engine::{stage_names, EngineError, Model, ModelConfig, Skip, Upsample};
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

/// Every stage of `tiny(..)` on a 16 x 24 input: name, kind, level, C x H x W.
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
    }
    assert_eq!(stage_names(2), EXPECTED.iter().map(|e| e.0.to_string()).collect::<Vec<_>>());
}

#[wasm_bindgen_test]
fn head_probabilities_sum_to_one_per_pixel() {
    let x = gradient_image(H, W, 3);
    for config in variants() {
        let stages = Model::<f32>::new(config, 3).unwrap().forward_traced(x.view()).unwrap();
        let head = &stages.last().unwrap().data;
        for (y, x) in (0..H).flat_map(|y| (0..W).map(move |x| (y, x))) {
            let sum: f32 = head.slice(s![0, y, x, ..]).sum();
            assert!((sum - 1.0).abs() < 1e-5, "{}: pixel ({y}, {x}) sums to {sum}", config.variant());
        }
    }
}

/// A 96 x 128 picture of which the top-left 90 x 120 is the photo.
fn image() -> InputImage {
    let (h, w) = (96, 128);
    let rgb = (0..h * w * 3).map(|i| (i * 7 % 251) as u8).collect();
    InputImage { height: h, width: w, valid_height: 90, valid_width: 120, rgb }
}

fn trace(engine: &mut Engine, run: u32, variant: Variant, image: InputImage) -> Vec<Response> {
    trace_of(engine, run, Dataset::Camvid, variant, image)
}

fn trace_of(engine: &mut Engine, run: u32, dataset: Dataset, variant: Variant, image: InputImage) -> Vec<Response> {
    let mut out = Vec::new();
    engine.handle(Request::Trace { run, dataset, variant, image }, &skipscope::now_ms, &mut |r| out.push(r));
    out
}

fn load(engine: &mut Engine, dataset: Dataset, variant: Variant, bytes: Vec<u8>) -> Vec<Response> {
    let mut out = Vec::new();
    engine.handle(Request::Load { dataset, variant, bytes }, &|| 0.0, &mut |r| out.push(r));
    out
}

#[wasm_bindgen_test]
fn a_trace_reports_started_every_stage_cropped_then_the_mask() {
    let mut engine = Engine::new();
    let variant = Variant::new(Upsample::Unpool, Skip::Concat);
    let responses = trace(&mut engine, 4, variant, image());
    assert!(responses.iter().all(|r| r.run() == Some(4)));
    let Some(Response::Started { model, .. }) = responses.first() else { panic!("{:?}", responses.first()) };
    assert!(!model.trained, "no weights were loaded: random");
    assert_eq!(model.classes.len(), 11);
    let stages: Vec<_> = responses[1..responses.len() - 1]
        .iter()
        .map(|r| match r {
            Response::Stage { stage, .. } => stage.clone(),
            other => panic!("expected a stage, got {other:?}"),
        })
        .collect();
    assert_eq!(stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), stage_names(4));
    for s in &stages {
        // Cropped to the photo: ceil(90 / 2^l) x ceil(120 / 2^l).
        let (h, w) = (90usize.div_ceil(1 << s.level), 120usize.div_ceil(1 << s.level));
        assert_eq!((s.planes.shape.height, s.planes.shape.width), (h, w), "{}", s.name);
        assert_eq!(s.planes.values.len(), s.planes.shape.channels * h * w);
        assert_eq!(s.argmax.is_some(), s.kind == StageKind::Pool);
        if let Some(a) = &s.argmax {
            assert_eq!(a.len(), s.planes.values.len());
            assert!(a.iter().all(|&p| p < 4));
        }
        if let Some(p) = &s.parts {
            assert_eq!(p.fused.shape.channels, 2 * p.upsampled.shape.channels, "concat stacks");
            assert!(p.skip.is_some());
        }
    }
    let Some(Response::Finished { mask, .. }) = responses.last() else { panic!() };
    assert_eq!((mask.height, mask.width, mask.classes.len()), (90, 120, 90 * 120));
    assert!(mask.classes.iter().all(|&c| c < 11));
    // The comparison's mask equals the trace's.
    let (_, seg) = engine.segment(Dataset::Camvid, variant, &image()).unwrap();
    assert_eq!(&seg, mask);
}

#[wasm_bindgen_test]
fn bad_inputs_fail_with_a_message_and_never_panic() {
    let mut engine = Engine::new();
    let v = Variant::new(Upsample::Bilinear, Skip::Add);
    let mut bad = image();
    bad.width = 120; // not a multiple of 16, and the bytes no longer match
    let r = trace(&mut engine, 1, v, bad);
    assert!(matches!(r.as_slice(), [Response::Failed { run: 1, .. }]), "{r:?}");
    let mut odd = image();
    odd.height = 90;
    odd.rgb.truncate(90 * 128 * 3);
    let r = trace(&mut engine, 2, v, odd);
    match r.as_slice() {
        [Response::Failed { message, .. }] => {
            assert!(message.contains("multiples of 16"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let out = load(&mut engine, Dataset::Camvid, v, b"not a safetensors file".to_vec());
    assert!(matches!(out.as_slice(), [Response::LoadFailed { .. }]), "{out:?}");
}

/// A weights file of `config` with the first `config.n_classes` classes of `dataset`.
fn weights_file(config: ModelConfig, dataset: Dataset) -> Vec<u8> {
    weights_file_with_recipe(config, dataset, serde_json::Value::Null)
}

fn weights_file_with_recipe(config: ModelConfig, dataset: Dataset, recipe: serde_json::Value) -> Vec<u8> {
    let mut model = Model::<f32>::new(config, 11).unwrap();
    let classes = dataset.classes()[..config.n_classes].to_vec();
    let meta = ModelMeta { config, classes, normalization: Normalization::imagenet(), recipe, metrics: serde_json::Value::Null };
    weights::save(&mut model, &meta, Storage::F16).unwrap()
}

#[wasm_bindgen_test]
fn loaded_weights_replace_the_random_model_and_must_match_the_variant_and_dataset() {
    let mut engine = Engine::new();
    let config = ModelConfig { in_channels: 3, n_classes: 11, depth: 4, width: 4, upsample: Upsample::Transposed, skip: Skip::None };
    let v = Variant::new(Upsample::Transposed, Skip::None);
    match load(&mut engine, Dataset::Camvid, v.with_skip(Skip::Add), weights_file(config, Dataset::Camvid)).as_slice() {
        [Response::LoadFailed { message, .. }] => {
            assert!(message.contains("transposed-none"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // An unknown class count: five classes are neither CamVid's 11 nor CCP's 4.
    let five = ModelConfig { n_classes: 5, ..config };
    match load(&mut engine, Dataset::Camvid, v, weights_file(five, Dataset::Camvid)).as_slice() {
        [Response::LoadFailed { message, .. }] => {
            assert!(message.contains("has 5 classes"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let out = load(&mut engine, Dataset::Camvid, v, weights_file(config, Dataset::Camvid));
    let [Response::Loaded { model, .. }] = out.as_slice() else { panic!("{out:?}") };
    assert!(model.trained);
    assert_eq!((model.depth, model.width, model.classes.len()), (4, 4, 11));
    let r = trace(&mut engine, 3, v, image());
    let Some(Response::Started { model, .. }) = r.first() else { panic!() };
    assert!(model.trained);
    let Some(Response::Finished { mask, .. }) = r.last() else { panic!("{:?}", r.last()) };
    assert!(mask.classes.iter().all(|&c| c < 11));
    // The same variant of the people dataset is another model: random, four classes, until
    // its own weights arrive (a CamVid file is refused for it).
    let r = trace_of(&mut engine, 4, Dataset::Ccp, v, image());
    let Some(Response::Started { model, .. }) = r.first() else { panic!() };
    assert!(!model.trained && model.dataset == Dataset::Ccp && model.classes.len() == 4, "{model:?}");
    let Some(Response::Finished { mask, .. }) = r.last() else { panic!("{:?}", r.last()) };
    assert!(mask.classes.iter().all(|&c| c < 4));
    assert!(matches!(load(&mut engine, Dataset::Ccp, v, weights_file(config, Dataset::Camvid)).as_slice(), [Response::LoadFailed { .. }]));
    let people = ModelConfig { n_classes: 4, ..config };
    // A file whose recipe names another dataset is refused even with the right class count.
    let mislabelled = weights_file_with_recipe(people, Dataset::Ccp, serde_json::json!({ "dataset": "camvid" }));
    match load(&mut engine, Dataset::Ccp, v, mislabelled).as_slice() {
        [Response::LoadFailed { message, .. }] => assert!(message.contains("trained on camvid"), "{message}"),
        other => panic!("{other:?}"),
    }
    let labelled = weights_file_with_recipe(people, Dataset::Ccp, serde_json::json!({ "dataset": "ccp" }));
    assert!(matches!(load(&mut engine, Dataset::Ccp, v, labelled).as_slice(), [Response::Loaded { .. }]));
    let r = trace(&mut engine, 5, v, image());
    let Some(Response::Started { model, .. }) = r.first() else { panic!() };
    assert!(model.trained && model.classes.len() == 11, "the CamVid model is still there");
}

#[wasm_bindgen_test]
fn protocol_messages_round_trip_through_the_worker_codec() {
    let v = Variant::new(Upsample::Unpool, Skip::Add);
    let requests = vec![
        Request::Load { dataset: Dataset::Ccp, variant: v, bytes: vec![1, 2, 3] },
        Request::Trace { run: 3, dataset: Dataset::Camvid, variant: v, image: image() },
    ];
    for r in &requests {
        assert_eq!(&Bincode::decode::<Request>(Bincode::encode(r)), r);
    }
    let mut engine = Engine::new();
    for r in trace(&mut engine, 5, v, image()).into_iter().chain([Response::Crashed { message: "panicked at x.rs:1:2".into() }]) {
        assert_eq!(Bincode::decode::<Response>(Bincode::encode(&r)), r);
    }
    assert_eq!(MapShape { channels: 16, height: 48, width: 64 }.to_string(), "16 x 48 x 64");
    assert_eq!(v.to_string(), "unpool-add");
    assert_eq!("bilinear-concat".parse::<Variant>().ok(), Some(Variant::new(Upsample::Bilinear, Skip::Concat)));
    assert_eq!("bilinear-sum".parse::<Variant>().ok(), None);
}

#[wasm_bindgen_test]
fn a_crashed_worker_fails_what_was_in_flight_and_nothing_more_runs() {
    let (tn, ta) = (Variant::new(Upsample::Transposed, Skip::None), Variant::new(Upsample::Transposed, Skip::Add));
    let camvid = Dataset::Camvid;
    let mut state = Rc::new(State::default()).reduce(Action::CatalogLoaded(Ok(manifest_with(&["camvid-transposed-none", "camvid-transposed-add"]))));
    state = state.reduce(Action::FetchDone { dataset: camvid, variant: tn });
    state = state.reduce(Action::FetchProgress { dataset: camvid, variant: ta, loaded: 1.0, total: None });
    state = state.reduce(Action::StartTrace { run: 1, variant: ta });
    state = state.reduce(Action::StartSegment { run: 2, variant: tn });
    assert!(state.running());
    state = state.reduce(Action::Response(Response::Crashed { message: "panicked at engine.rs:1:1".into() }));
    assert_eq!(state.engine_error.as_deref(), Some("panicked at engine.rs:1:1"));
    let stopped = ENGINE_STOPPED.to_string();
    assert!(!state.running());
    assert_eq!(state.trace().unwrap().error.as_ref(), Some(&stopped));
    assert_eq!(state.segment_errors.get(&tn), Some(&stopped));
    assert!(state.segment_runs.is_empty());
    for v in [tn, ta] {
        assert_eq!(state.weights.get(&(camvid, v)), Some(&Weights::Failed(stopped.clone())), "{v}");
        assert_eq!(state.availability(v), Availability::Stopped);
    }
    // A download finishing later, or a later panic, changes nothing: the first cause stays.
    let after = state.clone().reduce(Action::FetchDone { dataset: camvid, variant: ta });
    assert!(Rc::ptr_eq(&after, &state));
    let after = state.clone().reduce(Action::Response(Response::Crashed { message: "already borrowed".into() }));
    assert_eq!(after.engine_error.as_deref(), Some("panicked at engine.rs:1:1"));
    // Even without a manifest (random weights), nothing can run any more.
    let random = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("none".into())));
    let random = random.reduce(Action::Response(Response::Crashed { message: "x".into() }));
    assert!(!random.availability(ta).runnable());
}

/// A manifest listing `ids` like `camvid-transposed-none`.
fn manifest_with(ids: &[&str]) -> manifest::Manifest {
    let models: Vec<String> = ids
        .iter()
        .map(|id| {
            let mut parts = id.split('-');
            let (d, u, s) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            let [h, w] = d.parse::<Dataset>().unwrap().working_size();
            format!(
                r#"{{"id":"{id}","dataset":"{d}","upsample":"{u}","skip":"{s}","file":"{id}.safetensors","bytes":100,"parameters":10,
                "working_size":[{h},{w}],"epochs":1,"train_seconds":1.0,"test":{{"g":0.5,"c":0.4,"miou":0.3,"bf":null,"iou":[0.1,null],"pixels":9,"images":1}}}}"#
            )
        })
        .collect();
    manifest::parse(format!(r#"{{"format_version":1,"models":[{}]}}"#, models.join(",")).as_bytes()).unwrap()
}

#[wasm_bindgen_test]
fn availability_follows_the_manifest_and_the_downloads() {
    let tn = Variant::new(Upsample::Transposed, Skip::None);
    let ta = Variant::new(Upsample::Transposed, Skip::Add);
    let mut state = Rc::new(State::default());
    assert_eq!(state.availability(ta), Availability::Pending);
    // Only transposed-none is published: the default (transposed-add) is not, so the page
    // switches to it and disables the others.
    state = state.reduce(Action::CatalogLoaded(Ok(manifest_with(&["camvid-transposed-none", "ccp-transposed-add", "ccp-transposed-concat"]))));
    assert_eq!(state.variant, tn);
    assert!(matches!(state.availability(ta), Availability::Unavailable(_)));
    assert_eq!(state.availability(tn), Availability::Pending);
    let camvid = Dataset::Camvid;
    state = state.reduce(Action::FetchProgress { dataset: camvid, variant: tn, loaded: 10.0, total: Some(100.0) });
    assert_eq!(state.weights.get(&(camvid, tn)), Some(&Weights::Fetching { loaded: 10.0, total: Some(100.0) }));
    state = state.reduce(Action::FetchFailed { dataset: camvid, variant: tn, message: "HTTP 404".into() });
    assert_eq!(state.availability(tn), Availability::Random);
    // The people models: transposed-none is not published there, so the page shows
    // transposed-add, at CCP's working size; the CamVid download's state is kept.
    state = state.reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
    assert_eq!((state.dataset, state.variant), (Dataset::Ccp, ta));
    assert_eq!(state.working_size(), [256, 176]);
    assert_eq!(state.availability(ta), Availability::Pending);
    assert!(matches!(state.availability(tn), Availability::Unavailable(_)));
    assert!(matches!(state.weights.get(&(camvid, tn)), Some(Weights::Failed(_))));
    assert_eq!(state.published(Dataset::Ccp).count(), 2);
    // No manifest at all: everything runs with random weights.
    let missing = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("HTTP 404".into())));
    assert!(matches!(missing.catalog, Catalog::Missing(_)));
    assert_eq!(missing.availability(ta), Availability::Random);
    assert!(manifest::parse(b"{\"format_version\":2,\"models\":[]}").is_err());
    assert!(manifest::parse(b"<html>").is_err());
}

#[wasm_bindgen_test]
fn the_reducer_ignores_stale_runs_and_keeps_the_picture_on_a_bad_file() {
    let v = skipscope::state::DEFAULT_VARIANT;
    let mut engine = Engine::new();
    let responses = trace(&mut engine, 7, v, image());
    let mut state = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("none".into())));
    state = state.reduce(Action::StartTrace { run: 7, variant: v });
    assert!(state.running());
    // A response of another run changes nothing.
    let stale = Response::Failed { run: 6, message: "old".into() };
    let before = state.clone();
    state = state.reduce(Action::Response(stale));
    assert!(Rc::ptr_eq(&before, &state));
    for r in responses {
        state = state.reduce(Action::Response(r));
    }
    let t = state.trace().unwrap();
    assert_eq!(t.stages.len(), stage_names(4).len());
    assert!(t.mask.is_some() && !state.running());
    assert!(state.masks.contains_key(&v));
    state = state.reduce(Action::PictureFailed("not an image".into()));
    assert_eq!(state.picture_error.as_deref(), Some("not an image"));
    assert!(state.trace().unwrap().mask.is_some(), "the previous result stays");
    // Another dataset's models: the results go, and answers to earlier runs are ignored.
    let switched = state.clone().reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
    assert!(switched.trace().is_none() && switched.masks.is_empty());
    let late = switched.clone().reduce(Action::Response(Response::Failed { run: 7, message: "late".into() }));
    assert!(Rc::ptr_eq(&late, &switched));
    // A label decoded for the earlier dataset (or an earlier picture) is dropped.
    let label = Rc::new(skipscope::picture::Label { name: "l.png".into(), height: 1, width: 1, classes: vec![0], void: 11 });
    let serial = switched.picture_serial;
    let stale = switched.clone().reduce(Action::LabelReady { label: label.clone(), picture_serial: serial, dataset: Dataset::Camvid });
    assert!(stale.label.is_none());
    let stale = switched.clone().reduce(Action::LabelFailed { message: "bad".into(), picture_serial: serial + 1, dataset: Dataset::Ccp });
    assert!(stale.label_error.is_none());
    let fresh = switched.clone().reduce(Action::LabelReady { label, picture_serial: serial, dataset: Dataset::Ccp });
    assert!(fresh.label.is_some());
    // Stepping visits every stage in order and stops at the ends.
    state = state.reduce(Action::Select("input".into()));
    let mut seen = vec![state.selected.clone()];
    for _ in 0..30 {
        state = state.reduce(Action::Step(1));
        if seen.last() != Some(&state.selected) {
            seen.push(state.selected.clone());
        }
    }
    assert_eq!(seen, stage_names(4));
}

#[wasm_bindgen_test]
fn every_dataset_offers_samples_and_a_hint() {
    for d in Dataset::ALL {
        let offered = skipscope::samples::for_dataset(d);
        assert!(!offered.is_empty(), "{d:?} has no sample");
        assert!(offered.iter().all(|s| skipscope::samples::is_sample(s.id)));
        assert!(!skipscope::samples::upload_hint(d).is_empty());
    }
    assert!(skipscope::samples::for_dataset(Dataset::Ccp).iter().any(|s| s.id == "astronaut"));
}

#[wasm_bindgen_test]
fn pictures_fit_the_working_size_and_pad_to_the_multiple() {
    assert_eq!(fit(512, 512, 192, 256, 16), ((192, 192), (192, 192)));
    assert_eq!(fit(300, 451, 192, 256, 16), ((170, 256), (176, 256)));
    assert_eq!(fit(4000, 10, 192, 256, 16), ((192, 1), (192, 16)));
    let palette = [[128, 128, 128], [128, 0, 0]];
    assert_eq!(label_classes(&[0, 0, 0, 255, 1, 1, 1, 255, 11, 11, 11, 255], &palette, 11), vec![0, 1, 11], "class indices");
    assert_eq!(label_classes(&[128, 0, 0, 255, 128, 128, 128, 255, 1, 2, 3, 255], &palette, 11), vec![1, 0, 11], "colours");
    let rgba = vec![1, 2, 3, 255, 4, 5, 6, 255];
    assert_eq!(pad_rgb(&rgba, (1, 2), (2, 3)), vec![1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
}

#[wasm_bindgen_test]
fn masks_compare_and_draw() {
    let a = Mask { height: 2, width: 2, classes: vec![0, 0, 1, 1] };
    let b = Mask { height: 2, width: 2, classes: vec![0, 1, 1, 1] };
    assert_eq!(agreement(&a, &b), 0.75);
    assert_eq!(disagreement(&[&a, &b]), vec![false, true, false, false]);
    assert_eq!(boundaries(&a), vec![true, true, false, false]);
    let photo = vec![100u8; 16];
    let classes = Dataset::Camvid.classes();
    assert_eq!(overlay(&photo, &a, &classes, 0.0), photo);
    assert_eq!(&overlay(&photo, &a, &classes, 1.0)[..3], &classes[0].color);
    let signed = Scale::of(&[-1.0, 2.0]);
    assert!(signed.signed && signed.lo == -2.0 && signed.hi == 2.0);
    assert_eq!(signed.color(0.0), [247, 247, 247]);
    let plain = Scale::of(&[0.0, 1.0, f32::NAN]);
    assert!(!plain.signed);
    assert_eq!(plain.color(0.0), [68, 1, 84]);
    assert_eq!(plain.color(1.0), [253, 231, 37]);
    assert_eq!(Scale::of(&[]).rgba(&[0.5]).len(), 4);
}

#[wasm_bindgen_test]
fn engine_errors_are_values() {
    let config = tiny(Upsample::Unpool, Skip::Concat);
    let model = Model::<f32>::new(config, 1).unwrap();
    let x = gradient_image(18, W, 3);
    assert_eq!(model.forward_traced(x.view()).unwrap_err(), EngineError::InputSize { height: 18, width: W, multiple: 4 });
}

//! The worker's computation (`trace::Engine`: models, traces, masks, weights files, the
//! worker codec), compiled to wasm and run in headless Chromium as the worker runs it:
//! `cargo test --release --target wasm32-unknown-unknown -p skipscope`. The engine's own
//! layers and models are tested natively in crates/engine; the page's reducer and pure
//! helpers natively in the page's modules (`cargo test -p skipscope`).
#![cfg(target_arch = "wasm32")]

use gloo_worker::{Bincode, Codec};
use skipscope::protocol::{Dataset, InputImage, MapShape, Request, Response, TracePart, Variant};
use skipscope::trace::Engine;
use skipscope_engine::model::StageKind;
use skipscope_engine::weights::{self, ModelMeta, Normalization, Storage};
use skipscope_engine::{stage_names, Model, ModelConfig, Skip, Upsample};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A 96 x 128 picture of which the top-left 90 x 120 is the photo.
fn image() -> InputImage {
    let (h, w) = (96, 128);
    let rgb = (0..h * w * 3).map(|i| (i * 7 % 251) as u8).collect();
    InputImage { height: h, width: w, valid_height: 90, valid_width: 120, rgb }
}

fn trace(engine: &mut Engine, serial: u32, variant: Variant, image: InputImage) -> Vec<Response> {
    trace_of(engine, serial, Dataset::Camvid, variant, image)
}

fn trace_of(engine: &mut Engine, serial: u32, dataset: Dataset, variant: Variant, image: InputImage) -> Vec<Response> {
    let mut out = Vec::new();
    engine.handle(Request::Trace { serial, dataset, variant, image, part: TracePart::Whole }, &skipscope::now_ms, &mut |r| out.push(r));
    out
}

fn load(engine: &mut Engine, dataset: Dataset, variant: Variant, bytes: Vec<u8>) -> Vec<Response> {
    let mut out = Vec::new();
    engine.handle(Request::Load { serial: 9, dataset, variant, bytes }, &|| 0.0, &mut |r| out.push(r));
    assert!(out.iter().all(|r| r.serial() == Some(9)), "{out:?}");
    out
}

#[wasm_bindgen_test]
fn a_trace_reports_started_the_mask_then_every_stage_cropped() {
    let mut engine = Engine::new();
    let variant = Variant::new(Upsample::Unpool, Skip::Concat);
    let responses = trace(&mut engine, 4, variant, image());
    assert!(responses.iter().all(|r| r.serial() == Some(4)));
    let Some(Response::Started { model, variant: started, .. }) = responses.first() else { panic!("{:?}", responses.first()) };
    assert_eq!(*started, variant);
    assert!(!model.trained, "no weights were loaded: random");
    // The random fallback has the published CamVid models' architecture.
    assert_eq!((model.classes.len(), model.depth, model.width), (11, 4, 10));
    // The mask of the plain forward pass comes first, then every stage of the traced one.
    let Some(Response::Mask { mask: first, variant: masked, .. }) = responses.get(1) else { panic!("{:?}", responses.get(1)) };
    assert_eq!(*masked, variant);
    let stages: Vec<_> = responses[2..responses.len() - 1]
        .iter()
        .map(|r| match r {
            Response::Stage { stage, variant: v, .. } if *v == variant => stage.clone(),
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
    let Some(Response::Finished { mask, variant: finished, .. }) = responses.last() else { panic!() };
    assert_eq!(*finished, variant);
    assert_eq!((mask.height, mask.width, mask.classes.len()), (90, 120, 90 * 120));
    assert!(mask.classes.iter().all(|&c| c < 11));
    assert_eq!(first, mask, "the mask shown first is the trace's");
    // The comparison's mask equals the trace's, warm or cold.
    for _ in 0..2 {
        let (_, seg) = engine.segment(Dataset::Camvid, variant, &image()).unwrap();
        assert_eq!(&seg, mask);
    }
}

#[wasm_bindgen_test]
fn bad_inputs_fail_with_a_message_and_never_panic() {
    let mut engine = Engine::new();
    let v = Variant::new(Upsample::Bilinear, Skip::Add);
    let mut bad = image();
    bad.width = 120; // not a multiple of 16, and the bytes no longer match
    let r = trace(&mut engine, 1, v, bad);
    assert!(matches!(r.as_slice(), [Response::Failed { serial: 1, variant, .. }] if *variant == v), "{r:?}");
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
        Request::Load { serial: 1, dataset: Dataset::Ccp, variant: v, bytes: vec![1, 2, 3] },
        Request::Trace { serial: 3, dataset: Dataset::Camvid, variant: v, image: image(), part: TracePart::Stages },
        Request::Segment { serial: 4, dataset: Dataset::Camvid, variant: v, image: image() },
    ];
    for r in &requests {
        assert_eq!(&Bincode::decode::<Request>(Bincode::encode(r)), r);
    }
    assert_eq!(requests.iter().map(Request::serial).collect::<Vec<_>>(), [1, 3, 4]);
    let mut engine = Engine::new();
    let mut segmented = Vec::new();
    engine.handle(Request::Segment { serial: 6, dataset: Dataset::Camvid, variant: v, image: image() }, &|| 0.0, &mut |r| segmented.push(r));
    assert!(matches!(segmented.as_slice(), [Response::Segmented { serial: 6, .. }]), "{segmented:?}");
    let failed = load(&mut engine, Dataset::Ccp, v, vec![0; 4]);
    let answers = trace(&mut engine, 5, v, image()).into_iter().chain(segmented).chain(failed);
    for r in answers.chain([Response::Crashed { message: "panicked at x.rs:1:2".into() }]) {
        assert_eq!(Bincode::decode::<Response>(Bincode::encode(&r)), r);
    }
    assert_eq!(MapShape { channels: 16, height: 48, width: 64 }.to_string(), "16 x 48 x 64");
    assert_eq!(v.to_string(), "unpool-add");
    assert_eq!("bilinear-concat".parse::<Variant>().ok(), Some(Variant::new(Upsample::Bilinear, Skip::Concat)));
    assert_eq!("bilinear-sum".parse::<Variant>().ok(), None);
}

/// The page verifies weights with the browser's SHA-256 (`offline::native_sha256_hex`):
/// it must be the engine's, and a verification by either must agree.
#[wasm_bindgen_test]
async fn the_browsers_sha256_is_the_engines() {
    use skipscope_engine::catalog::{sha256_hex, Manifest, ManifestEntry};
    let mut state = 7u32;
    for len in [0usize, 1, 55, 56, 63, 64, 65, 1000, 1 << 20] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16) as u8
            })
            .collect();
        let native = skipscope::offline::native_sha256_hex(&bytes).await.expect("crypto.subtle in the test page");
        assert_eq!(native, sha256_hex(&bytes), "{len} bytes");
        let mut entry: ManifestEntry = Manifest::parse(include_bytes!("../www/models/manifest.json")).unwrap().models[0].clone();
        entry.bytes = len;
        entry.sha256 = Some(sha256_hex(&bytes));
        assert_eq!(skipscope::offline::verify(&entry, &bytes).await, entry.verify(&bytes));
        if len > 0 {
            let mut bad = bytes.clone();
            bad[len / 2] ^= 1;
            assert!(skipscope::offline::verify(&entry, &bad).await.is_err());
            assert_eq!(skipscope::offline::verify(&entry, &bad).await, entry.verify(&bad));
        }
    }
}

/// The page's choice of worker build: Chromium runs relaxed SIMD, and the probe is rejected
/// once its relaxed opcode is replaced by one that does not exist (so `validate` looks at it).
#[wasm_bindgen_test]
fn relaxed_simd_probe_validates_and_an_unknown_opcode_does_not() {
    use skipscope::features::{relaxed_simd, validates, PROBE_OPCODE_AT, RELAXED_SIMD_PROBE};
    assert!(relaxed_simd(), "Chromium 156 has relaxed SIMD on by default");
    let mut unknown = RELAXED_SIMD_PROBE;
    // 0xfd 0x1ff: no SIMD instruction has that number.
    unknown[PROBE_OPCODE_AT + 1] = 0xff;
    unknown[PROBE_OPCODE_AT + 2] = 0x03;
    assert!(!validates(&unknown));
}

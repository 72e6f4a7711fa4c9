//! The "train it yourself" view's training, compiled to wasm and run in headless Chromium
//! as a learn worker runs it: the first two losses of the default settings equal the native
//! run's (the fixture `tests/fixtures/learn_losses.json`) within 1e-5 relative and the next
//! 18 within 0.1 (see `session::EXACT_STEPS` for why), and the worker's `Trainer` answers
//! the protocol.
#![cfg(target_arch = "wasm32")]

use skipscope::learn::protocol::{LearnRequest, LearnResponse};
use skipscope::learn::session::{check_against_fixture, fixture_losses, Fixture, EXACT_STEPS};
use skipscope::learn::settings::Settings;
use skipscope::learn::worker::Trainer;
use skipscope_engine::Skip;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn wasm_losses_match_the_native_fixture() {
    let fixture: Fixture = serde_json::from_str(include_str!("fixtures/learn_losses.json")).unwrap();
    assert_eq!(fixture.settings, Settings::default());
    let steps = fixture.losses[0].1.len();
    let run = fixture_losses(fixture.settings, steps).unwrap();
    for ((name, want), (skip, got)) in fixture.losses.iter().zip(&run) {
        assert_eq!(name, skip.name());
        match check_against_fixture(got, want) {
            Ok((exact, later)) => web_sys::console::log_1(
                &format!("{name}: largest relative difference to native {exact:e} (first {EXACT_STEPS} losses), {later:e} (the next {})", steps - EXACT_STEPS)
                    .into(),
            ),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[wasm_bindgen_test]
fn the_trainer_starts_trains_and_refuses_a_run_it_did_not_start() {
    let mut trainer = Trainer::default();
    let settings = Settings { size: 32, ..Settings::default() };
    let clock = || 0.0;
    match trainer.handle(LearnRequest::Start { generation: 3, settings, skip: Skip::Concat }, &clock) {
        LearnResponse::Ready { generation, rgb, label, evaluation, .. } => {
            assert_eq!((generation, rgb.len(), label.len(), evaluation.step), (3, 32 * 32 * 3, 32 * 32, 0));
        }
        other => panic!("{other:?}"),
    }
    match trainer.handle(LearnRequest::Train { generation: 3, max_steps: 3, budget_ms: 1e9 }, &clock) {
        LearnResponse::Progress { losses, steps, .. } => assert_eq!((losses.len(), steps), (3, 3)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(trainer.handle(LearnRequest::Train { generation: 2, max_steps: 1, budget_ms: 1.0 }, &clock), LearnResponse::Failed { generation: 2, .. }));
}

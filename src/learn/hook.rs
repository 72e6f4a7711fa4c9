//! The view's side effects: the three learn workers (one per model, so that a machine
//! with the cores trains them in parallel), the requests the state wants sent, and the
//! settings written to the URL.

use super::settings::{write_location, SKIPS};
use super::state::{LearnAction, LearnState};
use super::worker::LearnWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Where Trunk puts the learn worker's JavaScript (`data-bin="learn_worker"`).
const WORKER_PATH: &str = "learn_worker.js";

/// Spawns the workers once and sends each model the request [`LearnState::wanted`] names,
/// once per token; answers become [`LearnAction::Response`]s stamped with their arrival.
#[hook]
pub fn use_learn(state: &UseReducerHandle<LearnState>) {
    let bridges = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| {
            SKIPS
                .iter()
                .enumerate()
                .map(|(index, _)| {
                    let d = dispatcher.clone();
                    LearnWorker::spawner()
                        .callback(move |response| d.dispatch(LearnAction::Response { index, response: Box::new(response), at_ms: crate::now_ms() }))
                        .spawn(WORKER_PATH)
                })
                .collect::<Vec<WorkerBridge<LearnWorker>>>()
        })
    };
    let sent = use_memo((), |_| RefCell::new(vec![None; SKIPS.len()]));
    {
        let (state, bridges, sent) = (state.clone(), Rc::clone(&bridges), Rc::clone(&sent));
        // Runs after every render: a request is sent once for its token, however often the
        // page renders before the state has recorded it as sent.
        use_effect(move || {
            for (index, bridge) in bridges.iter().enumerate() {
                if let Some((token, request)) = state.wanted(index) {
                    let mut sent = sent.borrow_mut();
                    if sent[index] != Some(token) {
                        sent[index] = Some(token);
                        bridge.send(request);
                        state.dispatch(LearnAction::Sent { index, generation: token.0 });
                    }
                }
            }
        });
    }
    use_effect_with(state.settings, write_location);
}

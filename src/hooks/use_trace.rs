//! The trace of the shown picture through the shown variant, whenever the state wants one
//! ([`State::wanted_trace`]).

use super::WorkerHandle;
use crate::protocol::{Dataset, Request, TracePart, Variant};
use crate::state::{Action, State};
use yew::prelude::*;

/// Sends the trace the state wants while the page renders, not in an effect after it: a
/// toggle's request reaches the mask worker before the page has drawn the click (the
/// render takes a few ms, the worker nothing meanwhile). Each (picture, dataset, wanted
/// variant) is sent once, as an effect on them would be. A trace is wanted only once its
/// model's weights are loaded (their load was sent before), or where it runs on random
/// weights, so no load this render sends is overtaken.
#[hook]
pub fn use_trace(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    let sent = use_mut_ref(|| None::<(u32, Dataset, Option<Variant>)>);
    let key = (state.picture_serial, state.dataset, state.wanted_trace());
    if sent.borrow().as_ref() == Some(&key) {
        return;
    }
    *sent.borrow_mut() = Some(key);
    if let (Some(p), (_, dataset, Some(variant))) = (&state.picture, key) {
        let serial = worker.serials.next();
        state.dispatch(Action::StartTrace { serial, variant });
        worker.send(Request::Trace { serial, dataset, variant, image: p.input.clone(), part: TracePart::Whole });
    }
}

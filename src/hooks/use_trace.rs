//! The trace of the shown picture through the shown variant, whenever the state wants one
//! ([`State::wanted_trace`]).

use super::WorkerHandle;
use crate::protocol::{Request, TracePart};
use crate::state::{Action, State};
use yew::prelude::*;

#[hook]
pub fn use_trace(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    let (picture, d, worker) = (state.picture.clone(), state.dispatcher(), worker.clone());
    use_effect_with((state.picture_serial, state.dataset, state.wanted_trace()), move |(_, dataset, wanted)| {
        if let (Some(p), Some(variant)) = (picture, *wanted) {
            let serial = worker.serials.next();
            d.dispatch(Action::StartTrace { serial, variant });
            worker.send(Request::Trace { serial, dataset: *dataset, variant, image: p.input.clone(), part: TracePart::Whole });
        }
    });
}

//! The ablation run, whenever the state wants one ([`State::wanted_ablation`]): the shown
//! picture through the shown model with the skip off at the levels switched off.

use super::WorkerHandle;
use crate::protocol::Request;
use crate::state::{Action, State};
use yew::prelude::*;

#[hook]
pub fn use_ablation(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    let (picture, d, worker) = (state.picture.clone(), state.dispatcher(), worker.clone());
    use_effect_with(state.wanted_ablation(), move |wanted| {
        if let (Some(p), Some(key)) = (picture, wanted.clone()) {
            let serial = worker.serials.next();
            let request = Request::Ablate { serial, dataset: key.dataset, variant: key.variant, image: p.input.clone(), off: key.off.clone() };
            d.dispatch(Action::StartAblation { serial, key });
            worker.send(request);
        }
    });
}

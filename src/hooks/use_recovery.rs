//! Recovery from a crashed worker: whenever the state counts one more restart
//! ([`State::worker_restarts`], after a [`crate::protocol::Response::Crashed`] it recovers
//! from), the worker is replaced by a new one. The state has already forgotten what the dead
//! worker held, so the other hooks send it again (weights from Cache Storage, the runs in
//! flight); this hook must come right after `use_worker`, so that the new worker exists
//! before they do.

use super::WorkerHandle;
use crate::state::State;
use yew::prelude::*;

#[hook]
pub fn use_recovery(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    let worker = worker.clone();
    use_effect_with(state.worker_restarts, move |restarts| {
        if *restarts > 0 {
            worker.restart();
        }
    });
}

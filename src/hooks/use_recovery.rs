//! Recovery from a crashed worker: whenever the state counts one more restart
//! ([`State::worker_restarts`], after a [`crate::protocol::Response::Crashed`] it recovers
//! from), the worker is replaced by a new one. The state has already forgotten what the dead
//! worker held, so the other hooks send it again (weights from Cache Storage, the runs in
//! flight); this hook must come right after `use_worker`, and replaces the workers while the
//! page renders (not in an effect after it), so that the new workers exist before anything
//! is sent: `use_trace` sends during the same render.

use super::WorkerHandle;
use crate::state::State;
use yew::prelude::*;

#[hook]
pub fn use_recovery(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    let done = use_mut_ref(|| 0);
    if *done.borrow() < state.worker_restarts {
        *done.borrow_mut() = state.worker_restarts;
        worker.restart();
    }
}

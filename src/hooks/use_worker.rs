//! The worker bridge, one per page (replaced by a new worker after a crash, see
//! `use_recovery`), and the page's one serial counter.

use crate::protocol::Request;
use crate::state::{Action, State};
use crate::worker::EngineWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// Where Trunk puts the worker's JavaScript (`data-bin="worker"`), relative to the page.
const WORKER_PATH: &str = "worker.js";

/// The page's one counter: every request (to the worker, or a picture or label decode)
/// takes the next serial, and its answers carry it back.
#[derive(Clone, Default)]
pub struct Serials(Rc<Cell<u32>>);

impl Serials {
    pub fn next(&self) -> u32 {
        let n = self.0.get() + 1;
        self.0.set(n);
        n
    }
}

/// The worker bridge, shared by `Rc`: a clone of a gloo `WorkerBridge` tells the worker,
/// when dropped, that the page disconnected. [`WorkerHandle::restart`] swaps in a new worker.
#[derive(Clone)]
pub struct WorkerHandle {
    bridge: Rc<RefCell<WorkerBridge<EngineWorker>>>,
    spawn: Rc<dyn Fn() -> WorkerBridge<EngineWorker>>,
    pub serials: Serials,
}

impl WorkerHandle {
    pub fn send(&self, request: Request) {
        self.bridge.borrow().send(request);
    }

    /// Replaces the worker by a new one (the old one closed itself after reporting its
    /// crash); requests sent from now on go to the new one.
    pub fn restart(&self) {
        let fresh = (self.spawn)();
        drop(self.bridge.replace(fresh));
    }
}

/// Starts the worker once; its answers become [`Action::Response`]s stamped with the time
/// they arrived.
#[hook]
pub fn use_worker(dispatcher: UseReducerDispatcher<State>) -> WorkerHandle {
    let handle = use_memo((), move |_| {
        let spawn: Rc<dyn Fn() -> WorkerBridge<EngineWorker>> = Rc::new(move || {
            let dispatcher = dispatcher.clone();
            EngineWorker::spawner()
                .callback(move |response| dispatcher.dispatch(Action::Response { response: Box::new(response), at_ms: crate::now_ms() }))
                .spawn(WORKER_PATH)
        });
        WorkerHandle { bridge: Rc::new(RefCell::new(spawn())), spawn, serials: Serials::default() }
    });
    (*handle).clone()
}

//! The two engine workers, one bridge each per page, and the page's one serial counter.
//!
//! The *mask* worker answers what the user waits for, a trace's mask; the *trace* worker
//! computes the traced pass whose stages stream in, and the comparison's masks (asked for
//! once the shown trace is done). A trace is sent to both, one half each under one serial
//! ([`TracePart`]), the stages once the mask is in, so the mask worker is free for the
//! next toggle while the stages and the comparison are computed. Both get every weights
//! file. After a crash both are replaced ([`WorkerHandle::restart`], driven by
//! `use_recovery`).

use crate::protocol::{Request, Response, TracePart};
use crate::state::{Action, State};
use crate::worker::EngineWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
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

type Bridge = WorkerBridge<EngineWorker>;

/// The worker bridges, shared by `Rc`: a clone of a gloo `WorkerBridge` tells the worker,
/// when dropped, that the page disconnected.
#[derive(Clone)]
pub struct WorkerHandle {
    mask: Rc<RefCell<Bridge>>,
    routing: Rc<RefCell<Routing>>,
    /// A new mask worker (its answers release held stages).
    spawn_mask: Rc<dyn Fn() -> Bridge>,
    /// A new trace worker.
    spawn: Rc<dyn Fn() -> Bridge>,
    pub serials: Serials,
}

/// The trace worker is started with the first whole trace or segmentation (so that it does
/// not compete with the mask worker's start on a cold page); until then the weights loads
/// sent are kept for it.
enum TraceWorker {
    NotYet(Vec<Request>),
    Running(Bridge),
}

struct Routing {
    trace: TraceWorker,
    /// Stages requests held until the mask worker has answered their trace's mask, in the
    /// order sent: streamed stages would otherwise queue ahead of the mask on the page's
    /// thread.
    held: VecDeque<Request>,
}

impl Routing {
    /// The mask worker answered (or failed) the mask of trace `serial`: its stages, and any
    /// held before them, go to the trace worker.
    fn release(&mut self, serial: u32) {
        let TraceWorker::Running(t) = &self.trace else { return };
        while self.held.front().is_some_and(|r| r.serial() <= serial) {
            t.send(self.held.pop_front().expect("checked"));
        }
    }
}

impl WorkerHandle {
    /// Sends `request` where it is computed: a weights load to both workers (each answers;
    /// the state takes the first answer under the serial), a segmentation to the trace
    /// worker, a whole trace as its mask to the mask worker and its stages to the trace
    /// worker once that mask is in (the first trace whole to the mask worker, which the
    /// trace worker then joins; a segmentation starts the trace worker too and runs there;
    /// before either, everything goes to the mask worker). Each
    /// worker answers its requests in the order sent, so a model is loaded in both before
    /// either is asked to run it.
    pub fn send(&self, request: Request) {
        let mut routing = self.routing.borrow_mut();
        let Routing { trace, held } = &mut *routing;
        match (request, &mut *trace) {
            (request @ Request::Load { .. }, TraceWorker::NotYet(loads)) => {
                loads.push(request.clone());
                self.mask.borrow().send(request);
            }
            (request @ Request::Load { .. }, TraceWorker::Running(t)) => {
                t.send(request.clone());
                self.mask.borrow().send(request);
            }
            (request @ Request::Trace { part: TracePart::Whole, .. }, TraceWorker::NotYet(loads)) => {
                self.mask.borrow().send(request);
                *trace = TraceWorker::Running(Self::start_trace_worker(&*self.spawn, loads));
            }
            // A segmentation before any whole trace (the camera side by side after a
            // restart): the trace worker starts with it, so it is computed there.
            (request @ Request::Segment { .. }, TraceWorker::NotYet(loads)) => {
                let worker = Self::start_trace_worker(&*self.spawn, loads);
                worker.send(request);
                *trace = TraceWorker::Running(worker);
            }
            (Request::Trace { serial, dataset, variant, image, part: TracePart::Whole }, TraceWorker::Running(_)) => {
                held.push_back(Request::Trace { serial, dataset, variant, image: image.clone(), part: TracePart::Stages });
                self.mask.borrow().send(Request::Trace { serial, dataset, variant, image, part: TracePart::Mask });
            }
            (request @ (Request::Segment { .. } | Request::Trace { part: TracePart::Stages, .. }), TraceWorker::Running(t)) => t.send(request),
            (request, _) => self.mask.borrow().send(request),
        }
    }

    /// A new trace worker, sent the weights loads kept for it.
    fn start_trace_worker(spawn: &dyn Fn() -> Bridge, loads: &mut Vec<Request>) -> Bridge {
        let worker = spawn();
        for load in loads.drain(..) {
            worker.send(load);
        }
        worker
    }

    /// Replaces both workers by new ones: the one that crashed closed itself, and the
    /// other's models belong to the state the page has forgotten (it sends the weights and
    /// the runs again). Dropping the last bridge of the other makes it close. The trace
    /// worker starts again with the next trace.
    pub fn restart(&self) {
        let fresh = (self.spawn_mask)();
        drop(self.mask.replace(fresh));
        let mut routing = self.routing.borrow_mut();
        routing.trace = TraceWorker::NotYet(Vec::new());
        routing.held.clear();
    }
}

/// Starts the mask worker once (the trace worker with the first trace or segmentation); their answers
/// become [`Action::Response`]s stamped with the time they arrived.
#[hook]
pub fn use_worker(dispatcher: UseReducerDispatcher<State>) -> WorkerHandle {
    let handle = use_memo((), move |_| {
        let routing = Rc::new(RefCell::new(Routing { trace: TraceWorker::NotYet(Vec::new()), held: VecDeque::new() }));
        let answer = {
            let dispatcher = dispatcher.clone();
            move |response: Response| dispatcher.dispatch(Action::Response { response: Box::new(response), at_ms: crate::now_ms() })
        };
        let spawn_mask: Rc<dyn Fn() -> Bridge> = {
            let (routing, answer) = (routing.clone(), answer.clone());
            Rc::new(move || {
                let (routing, answer) = (routing.clone(), answer.clone());
                EngineWorker::spawner()
                    .callback(move |response| {
                        if let Response::Mask { serial, .. } | Response::Failed { serial, .. } = &response {
                            routing.borrow_mut().release(*serial);
                        }
                        answer(response)
                    })
                    .spawn(WORKER_PATH)
            })
        };
        let spawn = Rc::new(move || EngineWorker::spawner().callback(answer.clone()).spawn(WORKER_PATH));
        WorkerHandle { mask: Rc::new(RefCell::new(spawn_mask())), routing, spawn_mask, spawn, serials: Serials::default() }
    });
    (*handle).clone()
}

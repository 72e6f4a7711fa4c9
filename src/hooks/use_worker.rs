//! The two engine workers, one bridge each per page, and the page's one serial counter.
//!
//! The *mask* worker answers what the user waits for, a trace's mask; the *trace* worker
//! computes the traced pass whose stages stream in, and the comparison's masks (asked for
//! once the shown trace is done). A trace is sent to both, one half each under one serial
//! ([`TracePart`]), the stages once the mask is in, so the mask worker is free for the
//! next toggle while the stages and the comparison are computed; until the first whole
//! trace's mask is in, the trace worker has not started and traces go whole to the mask
//! worker. Both get every weights
//! file. After a crash both are replaced ([`WorkerHandle::restart`], driven by
//! `use_recovery`).

use crate::protocol::{Dataset, Request, Response, TracePart, Variant};
use crate::state::{Action, State};
use crate::worker::EngineWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use yew::prelude::*;

/// Where Trunk puts the worker's JavaScript, relative to the page: the relaxed-SIMD build
/// (`data-bin="worker_relaxed"`) where the browser validates relaxed SIMD, else the simd128
/// one (`data-bin="worker"`). Asked once per page.
fn worker_path() -> &'static str {
    thread_local! {
        static PATH: &'static str = if crate::features::relaxed_simd() { "worker_relaxed.js" } else { "worker.js" };
    }
    PATH.with(|p| *p)
}

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
    /// The same bridge, for the timers and the mask worker's callback.
    mask_cell: MaskCell,
    routing: Rc<RefCell<Routing>>,
    /// A new mask worker (its answers release held stages).
    spawn_mask: Rc<dyn Fn() -> Bridge>,
    /// A new trace worker.
    spawn: Rc<dyn Fn() -> Bridge>,
    pub serials: Serials,
}

/// The trace worker is started once the mask worker has answered the mask of the first
/// whole trace, or with a segmentation asked before that (so that its start, its warm-up
/// and its loads do not compete with the first mask on a cold page, two cores); until then
/// whole traces go whole to the mask worker and the weights loads sent are kept for it.
enum TraceWorker {
    /// The loads kept for it, and the serial of the first whole trace sent meanwhile.
    NotYet {
        loads: Vec<Request>,
        after: Option<u32>,
    },
    Running(Bridge),
}

struct Routing {
    trace: TraceWorker,
    /// Stages requests held until the mask worker has answered their trace's mask, in the
    /// order sent: streamed stages would otherwise queue ahead of the mask on the page's
    /// thread.
    held: VecDeque<Request>,
    /// Weights loads sent in the background ([`WorkerHandle::send_background`]: the other
    /// skip modes' models), held from the mask worker while it is busy, in the order sent.
    loads_held: Vec<Request>,
    /// The serials of what the mask worker is busy with: the shown variant's weights load
    /// and traces' masks, until answered.
    busy: Vec<u32>,
    /// The whole traces whose masks the mask worker computes while the trace worker holds
    /// its work ([`Request::Pause`]): the two would otherwise share the cores (two here),
    /// and the mask is what the user waits for. Not the camera's frames, whose other skip
    /// modes the trace worker computes alongside.
    holding: Vec<u32>,
}

impl Routing {
    /// Tells a running trace worker to hold its work, or to take it up again.
    fn hold_trace_worker(&self, hold: bool) {
        if let TraceWorker::Running(t) = &self.trace {
            t.send(if hold { Request::Pause } else { Request::Resume });
        }
    }

    /// The mask worker answered (or failed) the mask of trace `serial`: its stages, and any
    /// held before them, go to the trace worker.
    fn release(&mut self, serial: u32) {
        let TraceWorker::Running(t) = &self.trace else { return };
        while self.held.front().is_some_and(|r| r.serial() <= serial) {
            t.send(self.held.pop_front().expect("checked"));
        }
    }

    /// The loads held for the mask worker of `(dataset, variant)` go to `mask` now, before
    /// a request that runs that model.
    fn flush_loads(&mut self, mask: &Bridge, pair: (Dataset, Variant)) {
        let (now, later) = self.loads_held.drain(..).partition(|r| matches!(r, Request::Load { dataset, variant, .. } if (*dataset, *variant) == pair));
        self.loads_held = later;
        for load in now {
            mask.send(load);
        }
    }

    /// Once the mask worker is busy with nothing the user waits for, it gets the loads held.
    fn release_loads_if_idle(&mut self, mask: &Bridge) {
        if self.busy.is_empty() {
            for load in self.loads_held.drain(..) {
                mask.send(load);
            }
        }
    }
}

impl WorkerHandle {
    /// Sends `request` where it is computed: a weights load to both workers (each answers;
    /// the state takes the first answer under the serial), a segmentation to the trace
    /// worker, a whole trace as its mask to the mask worker and its stages to the trace
    /// worker once that mask is in (until the mask worker has answered a first mask, whole
    /// traces go whole to the mask worker, and the trace worker starts with that answer; a
    /// segmentation before it starts the trace worker too and runs there). Each
    /// worker answers its requests in the order sent, so a model is loaded in both before
    /// either is asked to run it.
    pub fn send(&self, request: Request) {
        crate::mark(&format!("page: send {}", request.label()));
        let mut routing = self.routing.borrow_mut();
        // A model held back is loaded before anything runs it.
        if let Request::Trace { dataset, variant, .. } | Request::Segment { dataset, variant, .. } | Request::Ablate { dataset, variant, .. } = &request {
            routing.flush_loads(&self.mask.borrow(), (*dataset, *variant));
        }
        if matches!(request, Request::Load { .. } | Request::Trace { part: TracePart::Whole | TracePart::Mask, .. }) {
            routing.busy.push(request.serial());
        }
        let Routing { trace, held, holding, .. } = &mut *routing;
        match (request, &mut *trace) {
            (request @ Request::Load { .. }, TraceWorker::NotYet { loads, .. }) => {
                loads.push(request.clone());
                self.mask.borrow().send(request);
            }
            (request @ Request::Load { .. }, TraceWorker::Running(t)) => {
                t.send(request.clone());
                self.mask.borrow().send(request);
            }
            (request @ Request::Trace { part: TracePart::Whole, .. }, TraceWorker::NotYet { after, .. }) => {
                after.get_or_insert(request.serial());
                self.mask.borrow().send(request);
            }
            // A segmentation before the first whole trace's mask (the camera side by side
            // after a restart): the trace worker starts with it, so it is computed there.
            (request @ Request::Segment { .. }, TraceWorker::NotYet { loads, .. }) => {
                let worker = Self::start_trace_worker(&*self.spawn, loads);
                worker.send(request);
                *trace = TraceWorker::Running(worker);
            }
            (Request::Trace { serial, dataset, variant, image, part: TracePart::Whole }, TraceWorker::Running(t)) => {
                if holding.is_empty() {
                    t.send(Request::Pause);
                }
                holding.push(serial);
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
    /// worker starts again after the next whole trace's mask, or with a segmentation.
    pub fn restart(&self) {
        let fresh = (self.spawn_mask)();
        drop(self.mask.replace(fresh));
        let mut routing = self.routing.borrow_mut();
        routing.trace = TraceWorker::NotYet { loads: Vec::new(), after: None };
        routing.held.clear();
        routing.loads_held.clear();
        routing.busy.clear();
        routing.holding.clear();
    }

    /// Sends a weights load that nothing waits for yet (a model of the comparison): the
    /// trace worker gets it at once, the mask worker once it is not busy with the shown
    /// variant's load or a mask (so that the first mask does not wait behind two other
    /// models' loads), or before it is asked to run that model, whichever comes first.
    /// Either way each worker loads a model before it runs it.
    pub fn send_background(&self, request: Request) {
        if !matches!(request, Request::Load { .. }) {
            return self.send(request);
        }
        crate::mark(&format!("page: send in the background {}", request.label()));
        let mut routing = self.routing.borrow_mut();
        match &mut routing.trace {
            TraceWorker::NotYet { loads, .. } => loads.push(request.clone()),
            TraceWorker::Running(t) => t.send(request.clone()),
        }
        routing.loads_held.push(request);
        drop(routing);
        release_loads_later(&self.routing, &self.mask_cell);
    }
}

/// How long the mask worker stays idle before it gets the loads held back: longer than the
/// page takes from a model's `Loaded` to sending its trace.
const RELEASE_AFTER_MS: u32 = 300;

type MaskCell = Rc<RefCell<Option<Rc<RefCell<Bridge>>>>>;

/// The held loads go to the mask worker now if it is idle.
fn release_loads(routing: &Rc<RefCell<Routing>>, mask_cell: &MaskCell) {
    if let Some(mask) = mask_cell.borrow().as_ref() {
        if let (Ok(mask), Ok(mut routing)) = (mask.try_borrow(), routing.try_borrow_mut()) {
            routing.release_loads_if_idle(&mask);
        }
    }
}

/// The held loads go to the mask worker in [`RELEASE_AFTER_MS`] if it is idle then: so
/// that none is held for ever, whatever the page does next.
fn release_loads_later(routing: &Rc<RefCell<Routing>>, mask_cell: &MaskCell) {
    let (routing, mask_cell) = (routing.clone(), mask_cell.clone());
    gloo::timers::callback::Timeout::new(RELEASE_AFTER_MS, move || release_loads(&routing, &mask_cell)).forget();
}

/// Where the answers of a mask worker started before the page's first render go, once the
/// page has a reducer to give them to.
type Sink = Rc<RefCell<Option<Rc<dyn Fn(Response)>>>>;

thread_local! {
    /// The mask worker [`start_mask_worker_early`] started, taken by [`use_worker`].
    static EARLY: RefCell<Option<(Bridge, Sink)>> = const { RefCell::new(None) };
}

/// Starts the mask worker before the page's first render (`bin/app.rs`): a cold start
/// waits for the worker's script and wasm, and the first render takes a while. It answers
/// only requests, and the page sends none before [`use_worker`] takes it.
pub fn start_mask_worker_early() {
    let sink: Sink = Rc::default();
    let to = sink.clone();
    let bridge = EngineWorker::spawner()
        .callback(move |response| {
            let f = to.borrow().clone();
            if let Some(f) = f {
                f(response)
            }
        })
        .spawn(worker_path());
    EARLY.with(|early| *early.borrow_mut() = Some((bridge, sink)));
}

/// Starts the mask worker once (the trace worker after the first mask, or with a
/// segmentation before it), or
/// takes the one started early; their answers become [`Action::Response`]s stamped with the time they
/// arrived.
#[hook]
pub fn use_worker(dispatcher: UseReducerDispatcher<State>) -> WorkerHandle {
    let handle = use_memo((), move |_| {
        let routing = Rc::new(RefCell::new(Routing {
            trace: TraceWorker::NotYet { loads: Vec::new(), after: None },
            held: VecDeque::new(),
            loads_held: Vec::new(),
            busy: Vec::new(),
            holding: Vec::new(),
        }));
        let answer = {
            let dispatcher = dispatcher.clone();
            move |response: Response| {
                crate::mark(&format!("page: received {}", response.label()));
                dispatcher.dispatch(Action::Response { response: Box::new(response), at_ms: crate::now_ms() })
            }
        };
        // The mask worker's bridge, for its own callback (which releases held loads to it).
        let mask_cell: MaskCell = Rc::new(RefCell::new(None));
        let spawn: Rc<dyn Fn() -> Bridge> = {
            let answer = answer.clone();
            Rc::new(move || EngineWorker::spawner().callback(answer.clone()).spawn(worker_path()))
        };
        let on_mask: Rc<dyn Fn(Response)> = {
            let (routing, answer, mask_cell, spawn) = (routing.clone(), answer.clone(), mask_cell.clone(), spawn.clone());
            Rc::new(move |response| {
                if let Response::Mask { serial, .. } | Response::Failed { serial, .. } = &response {
                    let mut routing = routing.borrow_mut();
                    // The first whole trace's mask is in: the trace worker starts now,
                    // not while the mask worker computes it (two cores).
                    if let TraceWorker::NotYet { loads, after: Some(first) } = &mut routing.trace {
                        if *serial >= *first {
                            routing.trace = TraceWorker::Running(WorkerHandle::start_trace_worker(&*spawn, loads));
                        }
                    }
                    routing.release(*serial);
                }
                let done = match &response {
                    Response::Loaded { serial, .. } | Response::LoadFailed { serial, .. } | Response::Mask { serial, .. } | Response::Failed { serial, .. } => {
                        Some(*serial)
                    }
                    _ => None,
                };
                if let Some(serial) = done {
                    let mut routing = routing.borrow_mut();
                    routing.busy.retain(|s| *s != serial);
                    if routing.holding.contains(&serial) {
                        routing.holding.retain(|s| *s != serial);
                        if routing.holding.is_empty() {
                            routing.hold_trace_worker(false);
                        }
                    }
                }
                let mask_done = matches!(response, Response::Mask { .. } | Response::Failed { .. });
                answer(response);
                match (done, mask_done) {
                    // A mask is in: the held loads may go (if nothing else is waited for).
                    (Some(_), true) => release_loads(&routing, &mask_cell),
                    // The shown model loaded: its trace follows within a render or
                    // two; the held loads go only if none came.
                    (Some(_), false) => release_loads_later(&routing, &mask_cell),
                    (None, _) => {}
                }
            })
        };
        let spawn_mask: Rc<dyn Fn() -> Bridge> = {
            let on_mask = on_mask.clone();
            Rc::new(move || {
                let on_mask = on_mask.clone();
                EngineWorker::spawner().callback(move |response| on_mask(response)).spawn(worker_path())
            })
        };
        let early = EARLY.with(|early| early.borrow_mut().take());
        let first = match early {
            Some((bridge, sink)) => {
                *sink.borrow_mut() = Some(on_mask);
                bridge
            }
            None => spawn_mask(),
        };
        let mask = Rc::new(RefCell::new(first));
        *mask_cell.borrow_mut() = Some(mask.clone());
        WorkerHandle { mask, mask_cell, routing, spawn_mask, spawn, serials: Serials::default() }
    });
    (*handle).clone()
}

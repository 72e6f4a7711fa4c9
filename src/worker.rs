//! The Web Worker that runs the engine, so the page never freezes.

use crate::protocol::{Request, Response};
use crate::trace::{Engine, TraceJob, WarmUp};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The longest a [`Request::Pause`] holds the work, should its `Resume` never come.
pub const LONGEST_PAUSE_MS: u32 = 2000;

thread_local! {
    /// The page's bridge, for [`report_panic`]: recorded when the page connects.
    static PAGE: RefCell<Option<(WorkerScope<EngineWorker>, HandlerId)>> = const { RefCell::new(None) };
    static REPORTED: Cell<bool> = const { Cell::new(false) };
    /// Whether a request to run a model came: the warm-up stops.
    static REQUESTED: Cell<bool> = const { Cell::new(false) };
}

/// One step of the warm-up in its own task, then the next, until done or a request to run
/// a model came (a step is one small pass; weights loads, which the page sends first, are
/// handled between steps).
fn warm_up_step(warm: Rc<RefCell<WarmUp>>) {
    gloo::timers::callback::Timeout::new(0, move || {
        if REQUESTED.with(Cell::get) {
            crate::mark("worker: warm-up stopped by a request");
            return;
        }
        if warm.borrow_mut().step() {
            warm_up_step(warm);
        } else {
            crate::mark("worker: warm-up done");
        }
    })
    .forget();
}

/// The worker's panic hook. A panic aborts the WebAssembly instance, and a page that only
/// waited for answers would wait forever; so the hook logs the panic, answers the page with
/// [`Response::Crashed`] and closes this worker (the page starts a new one).
/// Only the first panic is reported: after it, gloo's state stays borrowed and every later
/// message panics too ("already borrowed"), which says nothing new.
pub fn report_panic(info: &std::panic::PanicHookInfo) {
    report(info.to_string());
}

/// Called by the worker's allocator when an allocation fails (the instance's memory is
/// exhausted): Rust then aborts without a panic, so this is the only word the page gets.
/// A failed allocation is usually a large one, so the report's small ones still succeed.
pub fn report_out_of_memory(bytes: usize) {
    report(format!("out of memory: an allocation of {bytes} bytes failed"));
}

fn report(message: String) {
    // First, so that an allocation failing inside the report does not report again.
    if REPORTED.with(|reported| reported.replace(true)) {
        return;
    }
    web_sys::console::error_1(&format!("SkipScope worker: {message}").into());
    PAGE.with(|page| {
        if let Some((scope, id)) = page.try_borrow().ok().as_deref().and_then(Option::as_ref) {
            scope.respond(*id, Response::Crashed { message });
        }
    });
    // The answer is posted; this instance is unusable, so free its memory.
    if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
        scope.close();
    }
}

/// A way back into the worker in a task of its own, after the events queued meanwhile (the
/// page's messages among them): a message to itself on a `MessageChannel`, which no timer
/// clamping delays.
struct Ticker {
    port: web_sys::MessagePort,
    _channel: web_sys::MessageChannel,
    _on_message: Closure<dyn FnMut()>,
}

impl Ticker {
    fn new(scope: &WorkerScope<EngineWorker>) -> Option<Self> {
        let channel = web_sys::MessageChannel::new().ok()?;
        let scope = scope.clone();
        let on_message = Closure::<dyn FnMut()>::new(move || scope.send_message(Own::Tick));
        channel.port1().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Self { port: channel.port2(), _channel: channel, _on_message: on_message })
    }
}

/// The worker's messages to itself.
pub enum Own {
    /// Take the next step of the work.
    Tick,
    /// A `Pause` has lasted [`LONGEST_PAUSE_MS`]: the work goes on.
    PauseOver,
}

/// Requests are taken in order, one at a time; a trace's stages a level per task, so that a
/// request that comes meanwhile is read between two levels: a `Pause` holds the work at
/// that point until its `Resume` (or [`LONGEST_PAUSE_MS`]).
pub struct EngineWorker {
    engine: Engine,
    /// Requests received and not begun, with who asked.
    queue: VecDeque<(Request, HandlerId)>,
    /// The trace whose stages are being computed.
    job: Option<(TraceJob, HandlerId)>,
    /// While a `Pause` holds the work: the timer that ends it after [`LONGEST_PAUSE_MS`]
    /// (dropped, so cancelled, by the `Resume`).
    paused: Option<gloo::timers::callback::Timeout>,
    ticker: Option<Ticker>,
    /// Whether a tick is on its way.
    ticking: bool,
}

impl EngineWorker {
    /// Comes back for the next step in a task of its own, unless a tick is on its way.
    fn tick_later(&mut self, scope: &WorkerScope<Self>) {
        if std::mem::replace(&mut self.ticking, true) {
            return;
        }
        match &self.ticker {
            Some(t) => {
                if t.port.post_message(&JsValue::NULL).is_err() {
                    scope.send_message(Own::Tick);
                }
            }
            None => {
                let scope = scope.clone();
                gloo::timers::callback::Timeout::new(0, move || scope.send_message(Own::Tick)).forget();
            }
        }
    }

    /// One step of the work, unless paused: the next level of the trace in progress, else
    /// the next request begun; then a tick for the rest.
    fn work(&mut self, scope: &WorkerScope<Self>) {
        if self.paused.is_some() {
            return;
        }
        if let Some((job, id)) = &mut self.job {
            let id = *id;
            if !job.step(&crate::now_ms, &mut |r| respond(scope, id, r)) {
                self.job = None;
            }
        } else if let Some((request, id)) = self.queue.pop_front() {
            crate::mark(&format!("worker: begins {}", request.label()));
            self.job = self.engine.begin(request, &crate::now_ms, &mut |r| respond(scope, id, r)).map(|job| (job, id));
        }
        if self.job.is_some() || !self.queue.is_empty() {
            self.tick_later(scope);
        }
    }
}

/// Posts `response` to the page (and marks it).
fn respond(scope: &WorkerScope<EngineWorker>, id: HandlerId, response: Response) {
    let label = response.label();
    scope.respond(id, response);
    crate::mark(&format!("worker: posted {label}"));
}

impl Worker for EngineWorker {
    type Message = Own;
    type Input = Request;
    type Output = Response;

    fn create(scope: &WorkerScope<Self>) -> Self {
        // While the page fetches and verifies the first weights, V8 optimises the engine's
        // code on a small pass, a step per task; the first request that runs a model
        // stops it.
        crate::mark("worker: warm-up");
        warm_up_step(Rc::new(RefCell::new(WarmUp::default())));
        Self { engine: Engine::new(), queue: VecDeque::new(), job: None, paused: None, ticker: Ticker::new(scope), ticking: false }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: Self::Message) {
        match msg {
            Own::Tick => {
                self.ticking = false;
                self.work(scope);
            }
            Own::PauseOver => {
                self.paused = None;
                self.tick_later(scope);
            }
        }
    }

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| *page.borrow_mut() = Some((scope.clone(), id)));
    }

    fn disconnected(&mut self, _scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| page.borrow_mut().take_if(|(_, connected)| *connected == id));
    }

    /// Requests are taken one at a time, in order, at once when nothing is in progress;
    /// each answer is posted as soon as it exists (a trace posts every stage while the next
    /// is computed). `Pause` and `Resume` act at once.
    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        crate::mark(&format!("worker: received {}", msg.label()));
        match msg {
            Request::Pause => {
                let scope = scope.clone();
                self.paused = Some(gloo::timers::callback::Timeout::new(LONGEST_PAUSE_MS, move || scope.send_message(Own::PauseOver)));
            }
            Request::Resume => {
                self.paused = None;
                self.tick_later(scope);
            }
            request => {
                if !matches!(request, Request::Load { .. }) {
                    REQUESTED.with(|r| r.set(true));
                }
                self.queue.push_back((request, id));
                if self.job.is_none() && self.queue.len() == 1 && !self.ticking {
                    self.work(scope);
                } else {
                    self.tick_later(scope);
                }
            }
        }
    }
}

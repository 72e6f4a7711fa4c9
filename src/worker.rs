//! The Web Worker that runs the engine, so the page never freezes.

use crate::protocol::{Request, Response};
use crate::trace::{Engine, WarmUp};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;

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

pub struct EngineWorker {
    engine: Engine,
}

impl Worker for EngineWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        // While the page fetches and verifies the first weights, V8 optimises the engine's
        // code on a small pass, a step per task; the first request that runs a model
        // stops it.
        crate::mark("worker: warm-up");
        warm_up_step(Rc::new(RefCell::new(WarmUp::default())));
        Self { engine: Engine::new() }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: Self::Message) {}

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| *page.borrow_mut() = Some((scope.clone(), id)));
    }

    fn disconnected(&mut self, _scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| page.borrow_mut().take_if(|(_, connected)| *connected == id));
    }

    /// Requests are handled one at a time, in order; each answer is posted as soon as it
    /// exists (a trace posts every stage while the next is computed).
    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        if !matches!(msg, Request::Load { .. }) {
            REQUESTED.with(|r| r.set(true));
        }
        crate::mark(&format!("worker: received {}", msg.label()));
        self.engine.handle(msg, &crate::now_ms, &mut |r| {
            let label = r.label();
            scope.respond(id, r);
            crate::mark(&format!("worker: posted {label}"));
        });
    }
}

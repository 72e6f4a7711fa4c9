//! The Web Worker that runs the engine, so the page never freezes.

use crate::protocol::{Request, Response};
use crate::trace::Engine;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;

thread_local! {
    /// The page's bridge, for [`report_panic`]: recorded when the page connects.
    static PAGE: RefCell<Option<(WorkerScope<EngineWorker>, HandlerId)>> = const { RefCell::new(None) };
    static REPORTED: Cell<bool> = const { Cell::new(false) };
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
        // While the page fetches and verifies the first weights: the first load and mask then
        // run optimised code (in one loaded browser trace, 0.07 s and 0.13 s where they took
        // 0.17 s and 0.64 s cold; docs/bench/page-profile.md).
        crate::mark("worker: warm-up");
        crate::trace::warm_up();
        crate::mark("worker: warm-up done");
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
        crate::mark(&format!("worker: received {}", msg.label()));
        self.engine.handle(msg, &crate::now_ms, &mut |r| {
            let label = r.label();
            scope.respond(id, r);
            crate::mark(&format!("worker: posted {label}"));
        });
    }
}

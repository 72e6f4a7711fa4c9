//! The Web Worker that runs the engine, so the page never freezes.

use crate::protocol::{Request, Response};
use crate::trace::Engine;
use gloo_worker::{HandlerId, Worker, WorkerScope};

pub struct EngineWorker {
    engine: Engine,
}

impl Worker for EngineWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self { engine: Engine::new() }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: Self::Message) {}

    /// Requests are handled one at a time, in order; each answer is posted as soon as it
    /// exists (a trace posts every stage while the next is computed).
    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        self.engine.handle(msg, &crate::now_ms, &mut |r| scope.respond(id, r));
    }
}

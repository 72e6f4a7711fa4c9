//! The Web Worker that runs the engine, so the page never freezes.

use crate::protocol::{Request, Response};
use crate::trace::Tracer;
use gloo_worker::{HandlerId, Worker, WorkerScope};

pub struct EngineWorker {
    tracer: Tracer,
}

impl Worker for EngineWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self { tracer: Tracer::new() }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: Self::Message) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        match msg {
            Request::Trace(request) => self.tracer.run(&request, &crate::now_ms, &mut |r| scope.respond(id, r)),
        }
    }
}

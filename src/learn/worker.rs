//! The learn worker (bin `learn_worker`): a `gloo_worker::Worker` around one [`Session`].
//! Requests are handled one at a time; a chunk of training answers once, so a pause (the
//! page sending no further chunk) takes effect within one chunk.

use super::protocol::{LearnRequest, LearnResponse};
use super::session::Session;
use gloo_worker::{HandlerId, Worker, WorkerScope};
use std::cell::{Cell, RefCell};

/// Milliseconds between two evaluations while training.
pub const EVALUATE_EVERY_MS: f64 = 500.0;

thread_local! {
    static PAGE: RefCell<Option<(WorkerScope<LearnWorker>, HandlerId)>> = const { RefCell::new(None) };
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// The worker's panic hook: logs the panic and answers the page with
/// [`LearnResponse::Crashed`] (once), so the page reports it instead of waiting.
pub fn report_panic(info: &std::panic::PanicHookInfo) {
    let message = info.to_string();
    web_sys::console::error_1(&format!("SkipScope learn worker: {message}").into());
    if REPORTED.with(|reported| reported.replace(true)) {
        return;
    }
    PAGE.with(|page| {
        if let Some((scope, id)) = page.try_borrow().ok().as_deref().and_then(Option::as_ref) {
            scope.respond(*id, LearnResponse::Crashed { message });
        }
    });
}

/// The state of one worker: its session (none before the first start) and when it last
/// evaluated.
#[derive(Default)]
pub struct Trainer {
    session: Option<(u32, Session)>,
    last_evaluation_ms: f64,
}

impl Trainer {
    /// Answers one request; `now_ms` is the clock (the worker's `performance.now()`).
    pub fn handle(&mut self, request: LearnRequest, now_ms: &dyn Fn() -> f64) -> LearnResponse {
        match request {
            LearnRequest::Start { generation, settings, skip } => {
                let started = Session::new(settings, skip).and_then(|mut s| s.evaluate().map(|e| (s, e)));
                match started {
                    Ok((session, evaluation)) => {
                        let (rgb, label) = session.example();
                        let (parameter_count, shared_values) = (session.parameter_count, session.shared_values);
                        self.session = Some((generation, session));
                        self.last_evaluation_ms = now_ms();
                        LearnResponse::Ready { generation, rgb, label, parameter_count, shared_values, evaluation }
                    }
                    Err(e) => {
                        self.session = None;
                        LearnResponse::Failed { generation, message: e.to_string() }
                    }
                }
            }
            LearnRequest::Train { generation, max_steps, budget_ms } => {
                let Some((_, session)) = self.session.as_mut().filter(|(g, _)| *g == generation) else {
                    return LearnResponse::Failed { generation, message: "this model was not started".into() };
                };
                let start = now_ms();
                let mut losses = Vec::new();
                while losses.len() < max_steps.max(1) as usize && (losses.is_empty() || now_ms() - start < budget_ms) {
                    match session.step() {
                        Ok(loss) => losses.push(loss),
                        Err(e) => return LearnResponse::Failed { generation, message: e.to_string() },
                    }
                }
                let end = now_ms();
                let evaluation = if max_steps == 1 || end - self.last_evaluation_ms >= EVALUATE_EVERY_MS {
                    self.last_evaluation_ms = end;
                    match session.evaluate() {
                        Ok(e) => Some(e),
                        Err(e) => return LearnResponse::Failed { generation, message: e.to_string() },
                    }
                } else {
                    None
                };
                LearnResponse::Progress { generation, losses, steps: session.steps(), train_ms: end - start, evaluation }
            }
        }
    }
}

pub struct LearnWorker {
    trainer: Trainer,
}

impl Worker for LearnWorker {
    type Message = ();
    type Input = LearnRequest;
    type Output = LearnResponse;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        Self { trainer: Trainer::default() }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: Self::Message) {}

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| *page.borrow_mut() = Some((scope.clone(), id)));
    }

    fn disconnected(&mut self, _scope: &WorkerScope<Self>, id: HandlerId) {
        PAGE.with(|page| page.borrow_mut().take_if(|(_, connected)| *connected == id));
    }

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        if let LearnRequest::Start { skip, .. } = &msg {
            // Lets a browser test tell the three workers apart (`self.__learnSkip`).
            let _ = js_sys::Reflect::set(&js_sys::global(), &"__learnSkip".into(), &skip.name().into());
        }
        let answer = self.trainer.handle(msg, &crate::now_ms);
        scope.respond(id, answer);
    }
}

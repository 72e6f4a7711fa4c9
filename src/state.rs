//! The page's state: one reducer.

use crate::protocol::{ModelSummary, Response, StageSummary};
use std::rc::Rc;
use yew::Reducible;

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Nothing requested yet.
    Idle,
    Running,
    Done {
        forward_ms: f64,
    },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// The run whose responses are shown; responses of other runs are ignored.
    pub run: u32,
    pub status: Status,
    pub model: Option<ModelSummary>,
    /// The current run's stages, in network order, as they arrive.
    pub stages: Vec<StageSummary>,
}

impl Default for State {
    fn default() -> Self {
        Self { run: 0, status: Status::Idle, model: None, stages: Vec::new() }
    }
}

impl State {
    pub fn running(&self) -> bool {
        self.status == Status::Running
    }
}

pub enum Action {
    /// A new run was requested from the worker.
    Start { run: u32 },
    /// The worker answered.
    Response(Response),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Start { run } => {
                next = State { run, status: Status::Running, ..State::default() };
            }
            Action::Response(r) if r.run() != self.run => return self,
            Action::Response(r) => match r {
                Response::Started { model, .. } => next.model = Some(model),
                Response::Stage { stage, .. } => next.stages.push(stage),
                Response::Finished { forward_ms, .. } => next.status = Status::Done { forward_ms },
                Response::Failed { message, .. } => next.status = Status::Failed(message),
            },
        }
        Rc::new(next)
    }
}

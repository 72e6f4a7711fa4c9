//! The view's one reducer, pure (no clock: actions carry `at_ms`; no web type): the
//! settings, whether training plays, and per model its status, losses, steps, last
//! evaluation and throughput; and the requests it wants sent ([`LearnState::wanted`]).

use super::protocol::{LearnRequest, LearnResponse};
use super::session::Evaluation;
use super::settings::{Settings, SKIPS};
use crate::Shared;
use std::rc::Rc;
use yew::Reducible;

/// Milliseconds a chunk of training may take before the worker answers.
pub const CHUNK_MS: f64 = 100.0;
/// The most steps in one chunk while playing.
pub const CHUNK_STEPS: u32 = 1000;
/// Steps per second are measured over the answers of this many milliseconds.
pub const RATE_WINDOW_MS: f64 = 3000.0;
/// Losses kept in the chart's "recent" average.
pub const RECENT: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Needs a [`LearnRequest::Start`].
    Idle,
    /// Started, no answer yet.
    Starting,
    Ready,
    /// The engine refused; a reset tries again.
    Failed(String),
    /// The worker panicked; it answers no more.
    Crashed(String),
}

/// One model's run.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRun {
    pub status: Status,
    /// The loss of every step so far.
    pub losses: Shared<Vec<f32>>,
    pub steps: u64,
    pub evaluation: Option<Shared<Evaluation>>,
    pub parameter_count: usize,
    pub shared_values: usize,
    /// A request is with the worker.
    pub in_flight: bool,
    /// "One step" was asked for and not yet sent.
    pub step_pending: bool,
    /// Answers accepted this generation (so that each wanted request is sent once).
    pub answers: u32,
    /// `(at_ms, steps)` of the answers of the last [`RATE_WINDOW_MS`] while playing.
    rate_samples: Vec<(f64, u64)>,
}

impl ModelRun {
    fn fresh() -> Self {
        Self {
            status: Status::Idle,
            losses: Shared(Rc::new(Vec::new())),
            steps: 0,
            evaluation: None,
            parameter_count: 0,
            shared_values: 0,
            in_flight: false,
            step_pending: false,
            answers: 0,
            rate_samples: Vec::new(),
        }
    }

    /// Steps per second over the last answers while playing (`None` before two answers).
    pub fn steps_per_second(&self) -> Option<f64> {
        let (&(t0, s0), &(t1, s1)) = (self.rate_samples.first()?, self.rate_samples.last()?);
        (t1 > t0).then(|| (s1 - s0) as f64 * 1000.0 / (t1 - t0))
    }

    /// The mean of the last [`RECENT`] losses.
    pub fn recent_loss(&self) -> Option<f32> {
        let tail = &self.losses[self.losses.len().saturating_sub(RECENT)..];
        (!tail.is_empty()).then(|| tail.iter().sum::<f32>() / tail.len() as f32)
    }

    /// The failure to report, if any.
    pub fn failure(&self) -> Option<&str> {
        match &self.status {
            Status::Failed(m) | Status::Crashed(m) => Some(m),
            _ => None,
        }
    }
}

/// The shown held-out example: RGB and true label, `size * size` pixels.
#[derive(Debug, PartialEq)]
pub struct Example {
    pub size: usize,
    pub rgb: Vec<u8>,
    pub label: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LearnState {
    pub settings: Settings,
    /// Bumped by every reset and change of settings; answers of another are dropped.
    pub generation: u32,
    pub playing: bool,
    /// One per [`SKIPS`] entry, in its order.
    pub models: Vec<ModelRun>,
    pub example: Option<Shared<Example>>,
}

pub enum LearnAction {
    SetSettings(Settings),
    Play {
        at_ms: f64,
    },
    Pause,
    /// One training step of every model (while paused).
    Step,
    Reset,
    /// The hook sent model `index` the request [`LearnState::wanted`] gave it.
    Sent {
        index: usize,
        generation: u32,
    },
    Response {
        index: usize,
        response: Box<LearnResponse>,
        at_ms: f64,
    },
}

impl LearnState {
    pub fn new(settings: Settings) -> Self {
        Self { settings, generation: 1, playing: false, models: SKIPS.iter().map(|_| ModelRun::fresh()).collect(), example: None }
    }

    /// Every model back to step 0 (a crashed worker stays crashed).
    fn reset(&mut self) {
        self.generation += 1;
        self.playing = false;
        self.example = None;
        for m in &mut self.models {
            let crashed = matches!(m.status, Status::Crashed(_));
            let status = m.status.clone();
            *m = ModelRun::fresh();
            if crashed {
                m.status = status;
            }
        }
    }

    /// The request model `index` should be sent now, with the token the hook sends it
    /// under at most once: `(generation, answers)`.
    pub fn wanted(&self, index: usize) -> Option<((u32, u32), LearnRequest)> {
        let m = self.models.get(index)?;
        let token = (self.generation, m.answers);
        let generation = self.generation;
        match m.status {
            Status::Idle => Some((token, LearnRequest::Start { generation, settings: self.settings, skip: SKIPS[index] })),
            Status::Ready if !m.in_flight && (self.playing || m.step_pending) => {
                let max_steps = if self.playing { CHUNK_STEPS } else { 1 };
                Some((token, LearnRequest::Train { generation, max_steps, budget_ms: CHUNK_MS }))
            }
            _ => None,
        }
    }

    /// Whether any model can train.
    pub fn any_ready(&self) -> bool {
        self.models.iter().any(|m| m.status == Status::Ready)
    }

    fn respond(&mut self, index: usize, response: LearnResponse, at_ms: f64) {
        let generation = self.generation;
        let playing = self.playing;
        let size = self.settings.size;
        let Some(m) = self.models.get_mut(index) else { return };
        match response {
            LearnResponse::Crashed { message } => {
                m.status = Status::Crashed(message);
                m.in_flight = false;
            }
            LearnResponse::Failed { generation: g, message } if g == generation => {
                m.status = Status::Failed(message);
                m.in_flight = false;
                m.answers += 1;
            }
            LearnResponse::Ready { generation: g, rgb, label, parameter_count, shared_values, evaluation } if g == generation => {
                m.status = Status::Ready;
                m.in_flight = false;
                m.answers += 1;
                m.parameter_count = parameter_count;
                m.shared_values = shared_values;
                m.evaluation = Some(Shared(Rc::new(evaluation)));
                if self.example.is_none() && rgb.len() == size * size * 3 && label.len() == size * size {
                    self.example = Some(Shared(Rc::new(Example { size, rgb, label })));
                }
            }
            LearnResponse::Progress { generation: g, losses, steps, evaluation, .. } if g == generation => {
                m.in_flight = false;
                m.answers += 1;
                let mut all = (*m.losses.0).clone();
                all.extend(losses);
                m.losses = Shared(Rc::new(all));
                m.steps = steps;
                if let Some(e) = evaluation {
                    m.evaluation = Some(Shared(Rc::new(e)));
                }
                if playing {
                    m.rate_samples.push((at_ms, steps));
                    m.rate_samples.retain(|(t, _)| at_ms - t <= RATE_WINDOW_MS);
                }
            }
            _ => {}
        }
    }
}

impl Reducible for LearnState {
    type Action = LearnAction;

    fn reduce(self: Rc<Self>, action: LearnAction) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            LearnAction::SetSettings(settings) => {
                if settings == s.settings {
                    return self;
                }
                s.settings = settings;
                s.reset();
            }
            LearnAction::Play { at_ms } => {
                s.playing = true;
                for m in &mut s.models {
                    m.rate_samples = vec![(at_ms, m.steps)];
                }
            }
            LearnAction::Pause => s.playing = false,
            LearnAction::Step => {
                for m in &mut s.models {
                    m.step_pending = m.status == Status::Ready;
                }
            }
            LearnAction::Reset => s.reset(),
            LearnAction::Sent { index, generation } => {
                if generation != s.generation {
                    return self;
                }
                if let Some(m) = s.models.get_mut(index) {
                    match m.status {
                        Status::Idle => m.status = Status::Starting,
                        _ => {
                            m.in_flight = true;
                            m.step_pending = false;
                        }
                    }
                }
            }
            LearnAction::Response { index, response, at_ms } => s.respond(index, *response, at_ms),
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: &LearnState, a: LearnAction) -> LearnState {
        (*Rc::new(s.clone()).reduce(a)).clone()
    }

    fn evaluation(step: u64) -> Evaluation {
        Evaluation { step, mask: vec![0; 64 * 64], thin_iou: Some(0.1), blob_iou: Some(0.5) }
    }

    fn ready(s: LearnState, index: usize) -> LearnState {
        let g = s.generation;
        let s = reduce(&s, LearnAction::Sent { index, generation: g });
        let response = LearnResponse::Ready {
            generation: g,
            rgb: vec![0; 64 * 64 * 3],
            label: vec![0; 64 * 64],
            parameter_count: 10,
            shared_values: 10,
            evaluation: evaluation(0),
        };
        reduce(&s, LearnAction::Response { index, response: Box::new(response), at_ms: 0.0 })
    }

    fn progress(generation: u32, losses: Vec<f32>, steps: u64) -> Box<LearnResponse> {
        Box::new(LearnResponse::Progress { generation, losses, steps, train_ms: 90.0, evaluation: None })
    }

    #[test]
    fn play_sends_chunks_pause_stops_them_and_step_sends_one() {
        let mut s = LearnState::new(Settings::default());
        assert!(matches!(s.wanted(0), Some((_, LearnRequest::Start { .. }))));
        s = ready(s, 0);
        assert!(s.example.is_some());
        assert!(s.wanted(0).is_none(), "ready and paused: nothing to send");
        s = reduce(&s, LearnAction::Play { at_ms: 0.0 });
        let (token, request) = s.wanted(0).unwrap();
        assert!(matches!(request, LearnRequest::Train { max_steps: CHUNK_STEPS, .. }));
        s = reduce(&s, LearnAction::Sent { index: 0, generation: s.generation });
        assert!(s.wanted(0).is_none(), "one chunk at a time");
        s = reduce(&s, LearnAction::Response { index: 0, response: progress(s.generation, vec![1.0, 0.9], 2), at_ms: 100.0 });
        let (next, _) = s.wanted(0).unwrap();
        assert_ne!(next, token, "each chunk has its own token");
        s = reduce(&s, LearnAction::Sent { index: 0, generation: s.generation });
        s = reduce(&s, LearnAction::Response { index: 0, response: progress(s.generation, vec![0.8, 0.7], 4), at_ms: 200.0 });
        assert_eq!(s.models[0].steps_per_second(), Some(20.0));
        assert_eq!(s.models[0].recent_loss(), Some(0.85));
        s = reduce(&s, LearnAction::Pause);
        assert!(s.wanted(0).is_none());
        s = reduce(&s, LearnAction::Step);
        assert!(matches!(s.wanted(0), Some((_, LearnRequest::Train { max_steps: 1, .. }))));
        s = reduce(&s, LearnAction::Sent { index: 0, generation: s.generation });
        assert!(!s.models[0].step_pending && s.wanted(0).is_none());
    }

    #[test]
    fn reset_drops_old_answers_and_a_crash_stays_reported() {
        let mut s = ready(ready(LearnState::new(Settings::default()), 0), 1);
        let old = s.generation;
        s = reduce(&s, LearnAction::Response { index: 1, response: Box::new(LearnResponse::Crashed { message: "boom".into() }), at_ms: 0.0 });
        s = reduce(&s, LearnAction::Reset);
        assert_eq!(s.models[0].status, Status::Idle);
        assert_eq!(s.models[1].failure(), Some("boom"), "a crashed worker is still reported after a reset");
        assert!(s.wanted(1).is_none(), "nothing is sent to a crashed worker");
        s = reduce(&s, LearnAction::Response { index: 0, response: progress(old, vec![1.0], 1), at_ms: 0.0 });
        assert_eq!(s.models[0].steps, 0, "an answer of the replaced run is dropped");
        let settings = Settings { seed: 9, ..Settings::default() };
        let g = s.generation;
        s = reduce(&s, LearnAction::SetSettings(settings));
        assert_eq!((s.settings, s.generation), (settings, g + 1));
    }
}

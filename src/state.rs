//! The page's state: one pure reducer. Everything the page shows is derived from [`State`]
//! by its methods; every change goes through an [`Action`], which carries the time when it
//! matters (`at_ms`): the reducer reads no clock and touches no web type. Side effects
//! (worker requests, downloads, decoding) live in `hooks/` and report back as actions.
//!
//! Staleness has one rule: every request (a trace, a segmentation, a weights load, a picture
//! or label decode) carries a serial from the page's one counter; the state keeps the serial
//! it expects per slot and drops any answer with another.
//!
//! The big maps sit behind `Rc`s, so an action clones only what it changes.

use crate::ablation::{Ablation, AblationKey, AblationRun};
use crate::camera::{Camera, CameraError, Frame};
use crate::lesson::{self, Focus};
use crate::manifest::{Manifest, ManifestEntry};
use crate::picture::{Fit, Label, Picture};
use crate::position::Position;
use crate::protocol::{Dataset, MapShape, Mask, ModelSummary, Response, StageData, Variant};
use crate::url::UrlState;
use crate::Shared;
use skipscope_engine::weights::ClassInfo;
use skipscope_engine::{stage_names, Skip, Upsample};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use yew::Reducible;

/// The variant shown first when the URL names none: of the nine, the one whose masks of the
/// three street photos looked right most consistently (road, buildings, trees and sky where
/// they are), with the skip's effect visible against transposed-none beside it.
pub const DEFAULT_VARIANT: Variant = Variant::new(Upsample::Transposed, Skip::Concat);
/// The stage selected first: the last decoder stage (the shallowest), whose output is at
/// full resolution just before the head.
pub const DEFAULT_STAGE: &str = "dec.0";
/// The dataset whose models are shown first when the URL names none.
pub const DEFAULT_DATASET: Dataset = Dataset::Camvid;

/// What every run, download and toggle says once the worker has crashed more often than it is
/// restarted ([`WORKER_RESTARTS`]).
pub const ENGINE_STOPPED: &str = "the engine stopped on an internal error; reload the page to go on";
/// How many times a crashed worker (a panic, or memory exhausted) is replaced by a new one and
/// its runs redone; the crash after that stops the engine ([`ENGINE_STOPPED`]), so a fault
/// that repeats on every run cannot loop.
pub const WORKER_RESTARTS: u32 = 2;

/// What the page knows about the published models.
#[derive(Clone, Debug, PartialEq)]
pub enum Catalog {
    Loading,
    Ready(Manifest),
    /// No manifest (or an unreadable one): every variant of every dataset runs with random
    /// weights.
    Missing(String),
}

/// One variant's trained weights.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// Downloading: bytes so far, and the total when known.
    Fetching {
        loaded: f64,
        total: Option<f64>,
    },
    /// Downloaded; the worker is reading them (request `serial`).
    Loading {
        serial: u32,
    },
    Ready(ModelSummary),
    Failed(String),
}

/// Whether a variant can run now, and with what.
#[derive(Clone, Debug, PartialEq)]
pub enum Availability {
    /// Its weights are on their way (or the manifest is).
    Pending,
    Trained,
    /// No weights are published for the dataset at all, or its download failed: random
    /// weights.
    Random,
    /// Other variants of the dataset have weights but this one has none: its toggle is
    /// disabled.
    Unavailable(String),
    /// The worker crashed ([`ENGINE_STOPPED`]): nothing runs until the page is reloaded.
    Stopped,
}

impl Availability {
    pub fn runnable(&self) -> bool {
        matches!(self, Availability::Trained | Availability::Random)
    }
}

/// Heatmap colour scale: each channel its own range, or one range for the whole stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleMode {
    PerChannel,
    PerStage,
}

/// One traced run of the current picture through one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The serial of its request: only answers with it are taken.
    pub serial: u32,
    pub model: Option<ModelSummary>,
    /// In network order, as they arrive.
    pub stages: Vec<Shared<StageData>>,
    /// The mask, which arrives before the stages (`Response::Mask`).
    pub mask: Option<Shared<Mask>>,
    /// The mask's forward pass (`Model::infer`), in the worker.
    pub mask_ms: Option<f64>,
    /// The traced forward pass, every stage: set when the trace is done.
    pub forward_ms: Option<f64>,
    pub error: Option<String>,
}

impl Trace {
    /// Until every stage is in (the mask may be shown already).
    pub fn running(&self) -> bool {
        self.forward_ms.is_none() && self.error.is_none()
    }
}

/// A mask of the current picture through a variant, for the comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmentation {
    pub mask: Shared<Mask>,
    pub model: ModelSummary,
}

/// A comparison run without its mask yet.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentRun {
    /// Sent to the worker as request `serial`.
    Running(u32),
    Failed(String),
}

/// One skip mode's column in the comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    Ready(Segmentation),
    Pending,
    /// Why there is no mask (no weights, or an error).
    Missing(String),
}

/// A user's weights file sent to the worker as request `serial`.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnRequest {
    pub serial: u32,
    /// The file's name, for messages.
    pub name: String,
}

/// A picture request awaited: a sample or file being read.
#[derive(Clone, Debug, PartialEq)]
pub struct PictureRequest {
    pub serial: u32,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub catalog: Rc<Catalog>,
    /// Every download, of any dataset (switching back finds them).
    pub weights: Rc<HashMap<(Dataset, Variant), Weights>>,
    /// Whose models are shown: traces, masks and the label below are of this dataset.
    pub dataset: Dataset,
    pub variant: Variant,
    /// The picture shown, and the serial of the request that brought it (0: none yet).
    pub picture: Option<Shared<Picture>>,
    pub picture_serial: u32,
    /// The sample being fetched or the file being decoded: only its answer is taken.
    pub picture_request: Option<PictureRequest>,
    /// Why the last file was refused (the previous picture and results stay).
    pub picture_error: Option<String>,
    /// A ground-truth label for the picture, to score each skip mode.
    pub label: Option<Shared<Label>>,
    pub label_error: Option<String>,
    /// The serial of the label decode awaited.
    pub label_request: Option<u32>,
    /// The sample shown, for the URL (none for uploads).
    pub sample: Option<String>,
    /// Traces of the current picture, per variant (a cache: toggling back is instant).
    pub traces: Rc<HashMap<Variant, Trace>>,
    /// Masks of the current picture, per variant (from traces and comparisons).
    pub masks: Rc<HashMap<Variant, Segmentation>>,
    /// Comparison runs of the current picture without a mask yet, per variant.
    pub segments: Rc<HashMap<Variant, SegmentRun>>,
    pub selected: String,
    pub channel: Option<usize>,
    pub scale: ScaleMode,
    pub opacity: f64,
    /// When the user asked for something whose mask is awaited, and what it was.
    pub clock: Option<(f64, &'static str)>,
    /// The last measured time from a request to its mask.
    pub latency: Option<(&'static str, f64)>,
    /// The worker's panic message, once it crashed more than [`WORKER_RESTARTS`] times:
    /// nothing more can run until the page is reloaded.
    pub engine_error: Option<String>,
    /// How many times the worker was replaced after a crash; the page's worker hook starts a
    /// new worker whenever this grows.
    pub worker_restarts: u32,
    /// The last crash the page recovered from, to say so.
    pub recovered_from: Option<String>,
    /// The lesson's step shown (from 0), or none when the lesson is closed.
    pub lesson: Option<usize>,
    /// The part of the page the last "show me" pointed at.
    pub focus: Option<Focus>,
    /// Why the variant shown is not the one asked for (the URL's, or the last one shown
    /// before a dataset switch): it has no weights for this dataset.
    pub variant_note: Option<String>,
    /// The user's weights files being read by the worker ([`Dataset::Own`]; they enter
    /// `weights` only once loaded, so a refused file replaces nothing).
    pub own_requests: Vec<OwnRequest>,
    /// Why the last user's weights file was refused.
    pub own_error: Option<String>,
    /// The position pinned by a click or tap (in the URL as `at=y,x`), in input pixels.
    pub at: Option<Position>,
    /// The position under the pointer, shown instead of the pinned one while there is one.
    pub hover: Option<Position>,
    /// The skip levels switched off at inference, and the run that answers it.
    pub ablation: Ablation,
    /// The live camera ([`Camera`]): while it is on, the photo's runs wait (its results stay).
    pub camera: Camera,
}

impl Default for State {
    fn default() -> Self {
        Self {
            catalog: Rc::new(Catalog::Loading),
            weights: Rc::default(),
            dataset: DEFAULT_DATASET,
            variant: DEFAULT_VARIANT,
            picture: None,
            picture_serial: 0,
            picture_request: None,
            picture_error: None,
            label: None,
            label_error: None,
            label_request: None,
            sample: None,
            traces: Rc::default(),
            masks: Rc::default(),
            segments: Rc::default(),
            selected: DEFAULT_STAGE.into(),
            channel: None,
            scale: ScaleMode::PerChannel,
            opacity: 0.6,
            clock: None,
            latency: None,
            engine_error: None,
            worker_restarts: 0,
            recovered_from: None,
            lesson: Some(0),
            focus: None,
            variant_note: None,
            own_requests: Vec::new(),
            own_error: None,
            at: None,
            hover: None,
            ablation: Ablation::default(),
            camera: Camera::default(),
        }
    }
}

/// The value of unlabelled pixels in label images of `dataset`: its void label, or the
/// first value after its classes.
pub fn label_void(dataset: Dataset) -> u8 {
    dataset.void_label().unwrap_or(dataset.classes().len() as u8)
}

/// What a picture for `dataset`'s models is fit to before its models are known: the
/// dataset's working size, padded for its published depth.
pub fn default_fit(dataset: Dataset) -> Fit {
    Fit { size: dataset.working_size(), multiple: 1 << crate::trace::fallback_architecture(dataset).0 }
}

impl State {
    /// The state a URL asks for (unknown values were dropped when it was read).
    pub fn from_url(url: &UrlState) -> Self {
        let mut s = State::default();
        if let Some(d) = url.dataset {
            s.dataset = d;
        }
        if let Some(v) = url.variant {
            s.variant = v;
        }
        if let Some(stage) = &url.stage {
            s.selected = stage.clone();
        }
        s.at = url.at;
        s.lesson = match url.lesson {
            Some(0) => None,
            Some(n) => Some(n - 1),
            None => Some(0),
        };
        // A step named alone sets the tool as its first "show me" does.
        if let (Some(n), None, None) = (s.lesson.filter(|_| url.lesson.is_some()), url.variant, &url.stage) {
            if let Some(show) = lesson::step(&s, n).shows.first() {
                s.variant = show.variant;
                s.selected = show.stage.clone();
                s.channel = show.channel;
                s.focus = Some(show.focus);
            }
        }
        s
    }

    /// The view for the URL (an own model cannot be named there: its file stays in the tab).
    pub fn url(&self) -> UrlState {
        UrlState {
            dataset: Some(self.dataset).filter(|d| *d != Dataset::Own),
            variant: Some(self.variant),
            sample: self.sample.clone(),
            stage: Some(self.selected.clone()),
            lesson: Some(self.lesson.map_or(0, |n| n + 1)),
            at: self.at,
        }
    }

    /// The position the close-ups follow: under the pointer, else the pinned one.
    pub fn position(&self) -> Option<Position> {
        self.hover.or(self.at)
    }

    /// What ablation run the page wants now, if any: levels are off on a model with a skip
    /// whose trace is done, and no run of that picture, model and levels was asked yet.
    pub fn wanted_ablation(&self) -> Option<AblationKey> {
        let depth = self.depth();
        if self.variant.skip == Skip::None || !self.ablation.any_off(depth) || self.picture.is_none() || !self.fits() || self.camera.active() {
            return None;
        }
        if self.trace().is_none_or(Trace::running) || !self.availability(self.variant).runnable() {
            return None;
        }
        let key = self.ablation_key();
        (self.ablation.run.as_ref().map(|r| &r.key) != Some(&key)).then_some(key)
    }

    /// What an ablation of the shown picture and model with the levels switched off is of.
    pub fn ablation_key(&self) -> AblationKey {
        let off = (0..self.depth()).map(|k| self.ablation.is_off(k)).collect();
        AblationKey { picture_serial: self.picture_serial, dataset: self.dataset, variant: self.variant, off }
    }

    /// The ablated mask of the shown picture and model for the levels switched off, once
    /// the worker answered (or why it failed).
    pub fn ablated(&self) -> Option<Result<Shared<Mask>, String>> {
        self.ablation.result_for(&self.ablation_key()).cloned()
    }

    /// The manifest's entries of `dataset`, in manifest order.
    pub fn published(&self, dataset: Dataset) -> impl Iterator<Item = &ManifestEntry> {
        let models = match &*self.catalog {
            Catalog::Ready(m) => m.models.as_slice(),
            _ => &[],
        };
        models.iter().filter(move |e| e.dataset == dataset)
    }

    /// The manifest's entry for `variant` of the shown dataset.
    pub fn entry(&self, variant: Variant) -> Option<&ManifestEntry> {
        self.published(self.dataset).find(|e| e.upsample == variant.upsample && e.skip == variant.skip)
    }

    /// The download state of `variant` of the shown dataset.
    pub fn weights_of(&self, variant: Variant) -> Option<&Weights> {
        self.weights.get(&(self.dataset, variant))
    }

    /// Whether `variant` of the shown dataset can run now, and with what.
    pub fn availability(&self, variant: Variant) -> Availability {
        if self.engine_error.is_some() {
            return Availability::Stopped;
        }
        if self.dataset == Dataset::Own {
            return match self.weights_of(variant) {
                Some(Weights::Ready(_)) => Availability::Trained,
                _ => Availability::Unavailable(format!("you have not opened a {variant} file")),
            };
        }
        match &*self.catalog {
            Catalog::Loading => Availability::Pending,
            Catalog::Missing(_) => Availability::Random,
            Catalog::Ready(_) if self.published(self.dataset).next().is_none() => Availability::Random,
            Catalog::Ready(_) => match (self.entry(variant), self.weights_of(variant)) {
                (None, _) => Availability::Unavailable(format!("no trained weights for {variant} yet")),
                (Some(_), None | Some(Weights::Fetching { .. }) | Some(Weights::Loading { .. })) => Availability::Pending,
                (Some(_), Some(Weights::Ready(_))) => Availability::Trained,
                (Some(_), Some(Weights::Failed(_))) => Availability::Random,
            },
        }
    }

    /// The availability of every variant, for the toggles.
    pub fn availability_all(&self) -> Vec<(Variant, Availability)> {
        Variant::all().map(|v| (v, self.availability(v))).collect()
    }

    /// The downloads the shown variant wants, in order: its own weights, then, once those
    /// are loaded or failed (or it has none published), those of the other skip modes at its
    /// upsampling (for the comparison), each with its entry; each only once (a download
    /// leaves its trace in `weights`, failed or not). The others wait because their
    /// downloads and checks take the page's thread, which the shown mask needs first.
    pub fn wanted_weights(&self) -> Vec<(Variant, &ManifestEntry)> {
        if self.engine_error.is_some() {
            return Vec::new();
        }
        let shown_settled = match self.weights_of(self.variant) {
            Some(Weights::Ready(_) | Weights::Failed(_)) => true,
            Some(Weights::Fetching { .. } | Weights::Loading { .. }) => false,
            None => self.entry(self.variant).is_none(),
        };
        let others = Skip::ALL.into_iter().map(|s| self.variant.with_skip(s)).filter(|_| shown_settled);
        let order = std::iter::once(self.variant).chain(others);
        let mut wanted: Vec<(Variant, &ManifestEntry)> = Vec::new();
        for v in order {
            let fresh = !self.weights.contains_key(&(self.dataset, v)) && !wanted.iter().any(|(w, _)| *w == v);
            if let Some(e) = self.entry(v).filter(|_| fresh) {
                wanted.push((v, e));
            }
        }
        wanted
    }

    /// The working size of the current variant's model: the manifest's, else its loaded
    /// file's (an own model), else the dataset's.
    pub fn working_size(&self) -> [usize; 2] {
        let loaded = || match self.weights_of(self.variant) {
            Some(Weights::Ready(m)) => Some(m.working_size),
            _ => None,
        };
        self.entry(self.variant).map(|e| e.working_size).or_else(loaded).unwrap_or(self.dataset.working_size())
    }

    /// The variants of the user's own model loaded so far, in the toggles' order.
    pub fn own_variants(&self) -> Vec<Variant> {
        Variant::all().filter(|v| matches!(self.weights.get(&(Dataset::Own, *v)), Some(Weights::Ready(_)))).collect()
    }

    pub fn trace(&self) -> Option<&Trace> {
        self.traces.get(&self.variant)
    }

    /// The summary of the shown model: from its trace, else from its loaded weights.
    pub fn model(&self) -> Option<&ModelSummary> {
        self.trace().and_then(|t| t.model.as_ref()).or(match self.weights_of(self.variant) {
            Some(Weights::Ready(m)) => Some(m),
            _ => None,
        })
    }

    /// The depth of the shown model (from its trace or its loaded weights, else that of the
    /// dataset's published models).
    pub fn depth(&self) -> usize {
        self.model().map(|m| m.depth).unwrap_or(crate::trace::fallback_architecture(self.dataset).0)
    }

    /// What the picture must be fit to for the shown model: its working size, and sides
    /// padded to `2^depth`.
    pub fn fit(&self) -> Fit {
        Fit { size: self.working_size(), multiple: 1 << self.depth() }
    }

    /// Whether the shown picture (if any) is fit for the shown model.
    pub fn fits(&self) -> bool {
        self.picture.as_ref().is_none_or(|p| p.fitted_to == self.fit())
    }

    /// Whether the shown picture must be read again for the shown model (and no other
    /// picture is on its way).
    pub fn needs_refit(&self) -> bool {
        !self.fits() && self.picture_request.is_none()
    }

    /// The variant to trace now, if any: the shown one, when the picture fits its model,
    /// it can run and nothing is cached for it.
    pub fn wanted_trace(&self) -> Option<Variant> {
        let ready = self.picture.is_some()
            && self.fits()
            && !self.camera.active()
            && self.availability(self.variant).runnable()
            && !self.traces.contains_key(&self.variant);
        ready.then_some(self.variant)
    }

    /// The variants to segment now for the comparison: once the shown trace is done, the
    /// other skip modes that can run and have no mask, run or error yet.
    pub fn wanted_segments(&self) -> Vec<Variant> {
        if self.picture.is_none() || self.camera.active() || self.trace().is_none_or(Trace::running) {
            return Vec::new();
        }
        Skip::ALL
            .into_iter()
            .map(|s| self.variant.with_skip(s))
            .filter(|v| *v != self.variant && self.availability(*v).runnable() && !self.masks.contains_key(v) && !self.segments.contains_key(v))
            .collect()
    }

    /// The variants a camera frame is run through: the shown one, or side by side the three
    /// skip modes at its upsampling, each with `Ok` if it can run now, else why not.
    pub fn camera_variants(&self) -> Vec<(Variant, Result<(), String>)> {
        let variants: Vec<Variant> = if self.camera.side_by_side { Skip::ALL.map(|s| self.variant.with_skip(s)).to_vec() } else { vec![self.variant] };
        variants
            .into_iter()
            .map(|v| {
                let why = match self.availability(v) {
                    a if a.runnable() => Ok(()),
                    Availability::Pending => Err("its weights are downloading".to_string()),
                    Availability::Unavailable(why) => Err(why),
                    Availability::Stopped => Err(ENGINE_STOPPED.to_string()),
                    _ => Err("it cannot run".to_string()),
                };
                (v, why)
            })
            .collect()
    }

    /// The variants the next camera frame should run through now (none: no frame is
    /// wanted, because the camera is off, a frame is in flight or nothing can run).
    pub fn wanted_camera_frame(&self) -> Vec<Variant> {
        if !self.camera.wants_frame() {
            return Vec::new();
        }
        self.camera_variants().into_iter().filter(|(_, ok)| ok.is_ok()).map(|(v, _)| v).collect()
    }

    /// The mask of the shown variant: from its trace, or from the comparison.
    pub fn mask(&self) -> Option<Shared<Mask>> {
        self.trace().and_then(|t| t.mask.clone()).or_else(|| self.masks.get(&self.variant).map(|s| s.mask.clone()))
    }

    pub fn running(&self) -> bool {
        self.trace().is_some_and(Trace::running)
    }

    /// What the status line says while nothing runs and nothing is done.
    pub fn waiting_for(&self) -> &'static str {
        if self.picture.is_some() && self.availability(self.variant) == Availability::Pending {
            "Waiting for the model's weights."
        } else {
            "Waiting for a photo and a model."
        }
    }

    /// Whether the shown variant's mask of the picture is on its way: its trace runs, is
    /// wanted, or waits for the variant's weights.
    pub fn mask_coming(&self) -> bool {
        self.running() || self.wanted_trace().is_some() || (self.picture.is_some() && self.availability(self.variant) == Availability::Pending)
    }

    /// The classes of the shown model (from its trace or its loaded file, else the dataset's).
    pub fn classes(&self) -> Vec<ClassInfo> {
        self.model().map(|m| m.classes.clone()).unwrap_or_else(|| self.dataset.classes())
    }

    /// The shape of every stage traced so far, by name.
    pub fn shapes(&self) -> HashMap<String, MapShape> {
        self.trace().map(|t| t.stages.iter().map(|s| (s.name.clone(), s.planes.shape)).collect()).unwrap_or_default()
    }

    /// The names of the stages traced so far.
    pub fn ready_stages(&self) -> HashSet<String> {
        self.trace().map(|t| t.stages.iter().map(|s| s.name.clone()).collect()).unwrap_or_default()
    }

    /// The selected stage, once traced.
    pub fn selected_stage(&self) -> Option<Shared<StageData>> {
        self.trace().and_then(|t| t.stages.iter().find(|s| s.name == self.selected).cloned())
    }

    /// What the status line reports as failed: the shown trace's error, or the crash.
    pub fn status_error(&self) -> Option<String> {
        self.trace().and_then(|t| t.error.clone()).or(self.engine_error.as_ref().map(|_| ENGINE_STOPPED.into()))
    }

    /// The comparison's three columns: one per skip mode at the shown upsampling.
    pub fn compare_slots(&self) -> Vec<(Skip, Slot)> {
        Skip::ALL
            .into_iter()
            .map(|s| {
                let v = self.variant.with_skip(s);
                let slot = if let Some(seg) = self.masks.get(&v) {
                    Slot::Ready(seg.clone())
                } else if let Some(SegmentRun::Failed(e)) = self.segments.get(&v) {
                    Slot::Missing(e.clone())
                } else {
                    match self.availability(v) {
                        Availability::Unavailable(why) => Slot::Missing(why),
                        Availability::Stopped => Slot::Missing(ENGINE_STOPPED.into()),
                        _ => Slot::Pending,
                    }
                };
                (s, slot)
            })
            .collect()
    }

    /// What a label image may hold, for the comparison's hint.
    pub fn label_format(&self) -> String {
        let n = self.classes().len().max(1);
        let void = self.dataset.void_label().unwrap_or(n as u8);
        format!("the legend's colours, or class indices 0–{} with {void} = void", n - 1)
    }

    /// What the picker says of the user's own model: its variants and, if its files say,
    /// the scores of the shown one.
    pub fn own_summary(&self) -> String {
        let own = self.own_variants();
        let variants: Vec<String> = own.iter().map(Variant::to_string).collect();
        let shown = own.iter().find(|v| **v == self.variant).or(own.first()).copied();
        let scores = shown.and_then(|v| match self.weights.get(&(Dataset::Own, v)) {
            Some(Weights::Ready(m)) => m.scores.clone().map(|s| format!("; {v}: {s}")),
            _ => None,
        });
        format!("your file{}: {}{}", if variants.len() == 1 { "" } else { "s" }, variants.join(", "), scores.unwrap_or_default())
    }

    /// What the manifest publishes for `dataset`, in a line.
    pub fn published_summary(&self, dataset: Dataset) -> String {
        let published: Vec<&ManifestEntry> = self.published(dataset).collect();
        let best = published.iter().max_by(|a, b| a.test.miou.total_cmp(&b.test.miou));
        match (published.len(), best) {
            (0, _) | (_, None) => "no trained weights published yet".into(),
            (n, Some(e)) => format!(
                "{n} trained variant{}; best test mIoU {:.1}% ({}-{})",
                if n == 1 { "" } else { "s" },
                100.0 * e.test.miou,
                e.upsample.name(),
                e.skip.name()
            ),
        }
    }

    /// Whether `response` answers a request this state still awaits. Answers to anything
    /// else (an earlier picture, a model since replaced, a dataset left) are dropped.
    fn expects(&self, response: &Response) -> bool {
        let trace = |serial: &u32, variant: &Variant| self.traces.get(variant).is_some_and(|t| t.serial == *serial && t.running());
        let segment = |serial: &u32, variant: &Variant| self.segments.get(variant) == Some(&SegmentRun::Running(*serial));
        // A camera frame's run answers with its mask (a mask-only trace's `Started` is not
        // needed) or its failure.
        if response.serial().is_some_and(|s| self.camera.expects(s)) {
            return matches!(response, Response::Mask { .. } | Response::Segmented { .. } | Response::Failed { .. });
        }
        match response {
            Response::Loaded { serial, dataset: Dataset::Own, .. } | Response::LoadFailed { serial, dataset: Dataset::Own, .. } => {
                self.own_requests.iter().any(|r| r.serial == *serial)
            }
            Response::Loaded { serial, dataset, variant, .. } | Response::LoadFailed { serial, dataset, variant, .. } => {
                self.weights.get(&(*dataset, *variant)) == Some(&Weights::Loading { serial: *serial })
            }
            Response::Started { serial, variant, .. }
            | Response::Mask { serial, variant, .. }
            | Response::Stage { serial, variant, .. }
            | Response::Finished { serial, variant, .. } => trace(serial, variant),
            Response::Segmented { serial, variant, .. } => segment(serial, variant),
            Response::Ablated { serial, .. } => self.ablation.expects(*serial),
            Response::Failed { serial, variant, .. } => trace(serial, variant) || segment(serial, variant) || self.ablation.expects(*serial),
            Response::Crashed { .. } => true,
        }
    }

    /// The shown variant's trace, to fill in (only called for an expected answer).
    fn trace_mut(&mut self, variant: Variant) -> Option<&mut Trace> {
        Rc::make_mut(&mut self.traces).get_mut(&variant)
    }

    /// Forgets every result of `variant` of `dataset` (its model changed).
    fn invalidate(&mut self, dataset: Dataset, variant: Variant) {
        if dataset == self.dataset {
            Rc::make_mut(&mut self.traces).remove(&variant);
            Rc::make_mut(&mut self.masks).remove(&variant);
            Rc::make_mut(&mut self.segments).remove(&variant);
            if self.ablation.run.as_ref().is_some_and(|r| r.key.variant == variant) {
                self.ablation.run = None;
            }
        }
    }

    /// Forgets every result of the picture and its label (the picture or the dataset
    /// changed); answers to runs started before are dropped from now on.
    fn forget_results(&mut self) {
        self.traces = Rc::default();
        self.masks = Rc::default();
        self.segments = Rc::default();
        self.label = None;
        self.label_error = None;
        self.label_request = None;
    }

    /// A variant without weights cannot be shown while others of the dataset have them:
    /// shows the default one when published, else the first published.
    fn settle_variant(&mut self) {
        if let Availability::Unavailable(_) = self.availability(self.variant) {
            let published: Vec<Variant> = self.published(self.dataset).map(|e| Variant::new(e.upsample, e.skip)).collect();
            if let Some(v) = published.iter().find(|v| **v == DEFAULT_VARIANT).or(published.first()) {
                self.variant_note = Some(format!("{} has no trained weights for {} yet, so {} is shown instead.", self.variant, self.dataset.title(), v));
                self.variant = *v;
            }
        }
    }

    /// The stage `delta` stages from the selected one in network order (clamped).
    fn stepped(&self, delta: i32) -> String {
        let mut names = stage_names(self.depth());
        let i = names.iter().position(|n| *n == self.selected).unwrap_or(0) as i32;
        let j = (i + delta).clamp(0, names.len() as i32 - 1) as usize;
        names.swap_remove(j)
    }

    fn select(&mut self, name: &str) {
        if name != self.selected {
            self.selected = name.to_string();
            self.channel = None;
        }
    }

    /// Shows `variant` (the user chose it).
    fn set_variant(&mut self, variant: Variant, at_ms: f64) {
        self.variant = variant;
        self.variant_note = None;
        if self.camera.active() {
            // The photo's runs wait for the camera to stop: no toggle-to-mask time to
            // measure (its clock would run until then).
            self.clock = None;
            self.latency = None;
        } else if self.masks.contains_key(&variant) {
            // Traced before, or segmented for the comparison: the mask shows at once
            // (the trace, if missing, fills the stages in behind it).
            self.latency = Some(("toggle to mask (precomputed)", 0.0));
            self.clock = None;
        } else {
            self.clock = Some((at_ms, "toggle to mask"));
            self.latency = None;
        }
    }

    /// A mask of `variant` arrived at `at_ms`: the request-to-mask clock stops if it is the
    /// shown variant's.
    fn mask_arrived(&mut self, variant: Variant, at_ms: f64) {
        if variant == self.variant {
            if let Some((start, what)) = self.clock.take() {
                self.latency = Some((what, at_ms - start));
            }
        }
    }

    /// Takes a trace's mask (its first, or the one at its end when none came before).
    fn trace_mask(&mut self, variant: Variant, mask: Mask, at_ms: f64) {
        let mask = Shared(Rc::new(mask));
        let Some(t) = self.trace_mut(variant) else { return };
        if t.mask.is_some() {
            return;
        }
        t.mask = Some(mask.clone());
        if let Some(model) = t.model.clone() {
            // A mask the comparison already has stays (the same pixels), so its canvases
            // are not drawn again.
            if !self.masks.contains_key(&variant) {
                Rc::make_mut(&mut self.masks).insert(variant, Segmentation { mask, model });
            }
            self.mask_arrived(variant, at_ms);
        }
    }

    fn set_weights(&mut self, dataset: Dataset, variant: Variant, w: Weights) {
        Rc::make_mut(&mut self.weights).insert((dataset, variant), w);
    }

    /// Shows the models of `dataset` from `at_ms`: the picture's results and label are
    /// forgotten (the page then reads the picture again at the new working size).
    fn switch_dataset(&mut self, dataset: Dataset, at_ms: f64) {
        self.dataset = dataset;
        self.settle_variant();
        self.forget_results();
        // The camera goes on with the new model; masks of the old one are not shown.
        self.camera.forget_frames();
        self.channel = None;
        // While the camera is on the photo waits: no switch-to-mask time to measure.
        self.clock = (!self.camera.active()).then_some((at_ms, "model switch to mask"));
        self.latency = None;
    }

    /// The user's file `serial` is loaded as `variant` of their own model: it is shown.
    /// A file whose classes differ from the own files loaded before is another model: it
    /// replaces them.
    fn own_loaded(&mut self, serial: u32, variant: Variant, model: ModelSummary, at_ms: f64) {
        self.own_requests.retain(|r| r.serial != serial);
        self.own_error = None;
        let other_model = |w: &Weights| matches!(w, Weights::Ready(m) if m.classes != model.classes);
        let replaced: Vec<Variant> = self.weights.iter().filter(|((d, _), w)| *d == Dataset::Own && other_model(w)).map(|((_, v), _)| *v).collect();
        for v in replaced {
            Rc::make_mut(&mut self.weights).remove(&(Dataset::Own, v));
            self.invalidate(Dataset::Own, v);
        }
        self.set_weights(Dataset::Own, variant, Weights::Ready(model));
        self.invalidate(Dataset::Own, variant);
        if self.dataset != Dataset::Own {
            self.switch_dataset(Dataset::Own, at_ms);
        }
        if self.variant != variant {
            self.set_variant(variant, at_ms);
        }
    }

    /// Takes an expected answer of the worker.
    fn answer(&mut self, response: Response, at_ms: f64) {
        if let Some(serial) = response.serial().filter(|s| self.camera.expects(*s)) {
            match response {
                Response::Mask { mask, .. } | Response::Segmented { mask, .. } => self.camera.answer(serial, Ok(mask), at_ms),
                Response::Failed { message, .. } => self.camera.answer(serial, Err(message), at_ms),
                _ => {}
            }
            return;
        }
        match response {
            Response::Loaded { serial, dataset: Dataset::Own, variant, model } => self.own_loaded(serial, variant, model, at_ms),
            Response::LoadFailed { serial, dataset: Dataset::Own, message, .. } => {
                let name = self.own_requests.iter().find(|r| r.serial == serial).map(|r| r.name.clone()).unwrap_or_default();
                self.own_requests.retain(|r| r.serial != serial);
                self.own_error = Some(format!("{name} was not opened: {message}"));
            }
            Response::Loaded { dataset, variant, model, .. } => {
                self.set_weights(dataset, variant, Weights::Ready(model));
                self.invalidate(dataset, variant);
            }
            Response::LoadFailed { dataset, variant, message, .. } => {
                self.set_weights(dataset, variant, Weights::Failed(message));
                self.invalidate(dataset, variant);
            }
            Response::Started { variant, model, .. } => {
                if let Some(t) = self.trace_mut(variant) {
                    t.model = Some(model);
                }
            }
            Response::Stage { variant, stage, .. } => {
                if let Some(t) = self.trace_mut(variant) {
                    t.stages.push(Shared(Rc::new(stage)));
                }
            }
            Response::Mask { variant, mask, ms, .. } => {
                if let Some(t) = self.trace_mut(variant) {
                    t.mask_ms = Some(ms);
                }
                self.trace_mask(variant, mask, at_ms);
            }
            Response::Finished { variant, forward_ms, mask, .. } => {
                if let Some(t) = self.trace_mut(variant) {
                    t.forward_ms = Some(forward_ms);
                }
                self.trace_mask(variant, mask, at_ms);
            }
            Response::Segmented { variant, model, mask, .. } => {
                Rc::make_mut(&mut self.segments).remove(&variant);
                Rc::make_mut(&mut self.masks).insert(variant, Segmentation { mask: Shared(Rc::new(mask)), model });
                // The shown variant's mask, from a comparison run sent before it was shown.
                self.mask_arrived(variant, at_ms);
            }
            Response::Ablated { serial, mask, .. } => self.ablation.answer(serial, Ok(Shared(Rc::new(mask)))),
            Response::Failed { serial, variant, message } => {
                if self.ablation.expects(serial) {
                    self.ablation.answer(serial, Err(message));
                } else if self.segments.get(&variant) == Some(&SegmentRun::Running(serial)) {
                    Rc::make_mut(&mut self.segments).insert(variant, SegmentRun::Failed(message));
                } else if let Some(t) = self.trace_mut(variant) {
                    t.error = Some(message);
                    self.clock = None;
                }
            }
            Response::Crashed { message } if self.engine_error.is_none() && self.worker_restarts < WORKER_RESTARTS => {
                // A new worker replaces it (hooks/use_recovery): everything it held is asked
                // again. Weights loaded or being read go back to be read again (from Cache
                // Storage); runs in flight are forgotten, so they are sent again; finished
                // results, the picture and the view stay.
                let had_own = !self.own_variants().is_empty() || !self.own_requests.is_empty();
                Rc::make_mut(&mut self.weights).retain(|_, w| matches!(w, Weights::Fetching { .. } | Weights::Failed(_)));
                Rc::make_mut(&mut self.traces).retain(|_, t| !t.running());
                Rc::make_mut(&mut self.segments).retain(|_, r| !matches!(r, SegmentRun::Running(_)));
                // An ablation in flight is asked again (its result, if any, stays).
                if self.ablation.run.as_ref().is_some_and(|r| r.result.is_none()) {
                    self.ablation.run = None;
                }
                // The user's own files are not kept by the page: the new workers cannot have
                // them back, so the published models are shown and the user is told.
                self.own_requests.clear();
                if had_own {
                    self.own_error = Some("the engine restarted after an internal error and your model's files are not kept: open them again".into());
                }
                if self.dataset == Dataset::Own {
                    self.switch_dataset(DEFAULT_DATASET, at_ms);
                }
                // The camera's frame in flight is lost with the worker: the next is sent.
                self.camera.forget_frames();
                self.worker_restarts += 1;
                self.recovered_from = Some(message);
            }
            Response::Crashed { message } => {
                // Every question in flight gets this answer; availability() now refuses
                // every variant, so nothing new is sent.
                for t in Rc::make_mut(&mut self.traces).values_mut().filter(|t| t.running()) {
                    t.error = Some(ENGINE_STOPPED.into());
                }
                for run in Rc::make_mut(&mut self.segments).values_mut().filter(|r| matches!(r, SegmentRun::Running(_))) {
                    *run = SegmentRun::Failed(ENGINE_STOPPED.into());
                }
                for w in Rc::make_mut(&mut self.weights).values_mut().filter(|w| matches!(w, Weights::Loading { .. } | Weights::Fetching { .. })) {
                    *w = Weights::Failed(ENGINE_STOPPED.into());
                }
                if let Some(serial) = self.ablation.run.as_ref().map(|r| r.serial) {
                    self.ablation.answer(serial, Err(ENGINE_STOPPED.into()));
                }
                self.clock = None;
                self.camera.forget_frames();
                // The first panic is the cause; later ones are its consequences.
                self.engine_error.get_or_insert(message);
            }
        }
    }
}

pub enum Action {
    CatalogLoaded(Result<Manifest, String>),
    FetchProgress {
        dataset: Dataset,
        variant: Variant,
        loaded: f64,
        total: Option<f64>,
    },
    /// The download finished; the bytes went to the worker as request `serial`.
    FetchDone {
        dataset: Dataset,
        variant: Variant,
        serial: u32,
    },
    FetchFailed {
        dataset: Dataset,
        variant: Variant,
        message: String,
    },
    /// Download a variant's weights again after they failed (its random-weights results stay
    /// shown until the trained ones are loaded).
    RetryWeights {
        dataset: Dataset,
        variant: Variant,
    },
    /// Show the models of `dataset`: results and the label are forgotten (the page then
    /// reads the picture again at the dataset's working size).
    SetDataset {
        dataset: Dataset,
        at_ms: f64,
    },
    /// A user's weights file went to the worker as request `serial` (for [`Dataset::Own`]).
    OwnOpened {
        serial: u32,
        name: String,
    },
    /// A user's file was refused before it reached the worker (too large, unreadable).
    OwnRefused {
        name: String,
        message: String,
    },
    /// A sample or file is being read as request `serial` (any earlier one is dropped);
    /// `at_ms` starts the request-to-mask clock, except for a refit (the shown picture read
    /// again for another model), which keeps it.
    PictureRequested {
        serial: u32,
        name: String,
        sample: Option<String>,
        at_ms: f64,
        refit: bool,
    },
    PictureReady {
        serial: u32,
        picture: Rc<Picture>,
        sample: Option<String>,
    },
    PictureFailed {
        serial: u32,
        message: String,
    },
    /// A label image of the shown picture is being decoded as request `serial`.
    LabelRequested {
        serial: u32,
    },
    LabelReady {
        serial: u32,
        label: Rc<Label>,
    },
    LabelFailed {
        serial: u32,
        message: String,
    },
    SetVariant {
        variant: Variant,
        at_ms: f64,
    },
    /// A trace of the current picture through `variant` was sent to the worker.
    StartTrace {
        serial: u32,
        variant: Variant,
    },
    /// A segmentation of the current picture through `variant`, for the comparison.
    StartSegment {
        serial: u32,
        variant: Variant,
    },
    /// The worker answered at `at_ms` (boxed: answers are the largest actions).
    Response {
        response: Box<Response>,
        at_ms: f64,
    },
    Select(String),
    /// Steps `delta` stages through the network order (clamped).
    Step(i32),
    SelectChannel(Option<usize>),
    SetScale(ScaleMode),
    SetOpacity(f64),
    /// Opens the lesson at a step (from 0, clamped), or closes it.
    Lesson(Option<usize>),
    /// A lesson's "show me": the variant (when it can be shown), the stage, the channel and
    /// the part of the page it talks about.
    Show {
        show: lesson::Show,
        at_ms: f64,
    },
    /// The pointer is at `at` (none: it left); `pin` (a click, a tap, a key) also pins it.
    Point {
        at: Option<Position>,
        pin: bool,
    },
    /// Switch the skip off at the levels `k` where `off[k]`.
    SetAblation(Vec<bool>),
    /// An ablation run was sent to the worker as request `serial`.
    StartAblation {
        serial: u32,
        key: AblationKey,
    },
    /// The user asked for the camera.
    CameraStart,
    /// The browser answered the camera request: on, or why not.
    CameraOpened(Result<(), CameraError>),
    /// The camera is turned off (its button, Escape, the page hidden, or another photo chosen).
    CameraStop,
    /// The camera failed while on (a track ended: unplugged, permission revoked).
    CameraFailed(CameraError),
    /// The three skip modes side by side (or the shown one alone) from the next frame.
    CameraSideBySide(bool),
    /// A camera frame was sent to the workers, one run per variant.
    CameraFrameSent(Frame),
    /// The frame in flight may be overdue at `at_ms` ([`crate::camera::FRAME_TIMEOUT_MS`]).
    CameraFrameLate {
        at_ms: f64,
    },
}

impl Action {
    /// Whether this action can change nothing in `state` (then the reducer returns the same
    /// `Rc`, and nothing renders again).
    fn is_noop(&self, state: &State) -> bool {
        match self {
            // After a crash nothing is loaded any more: late download news changes nothing.
            Action::FetchProgress { .. } | Action::FetchDone { .. } => state.engine_error.is_some(),
            Action::RetryWeights { dataset, variant } => {
                !matches!(state.weights.get(&(*dataset, *variant)), Some(Weights::Failed(_))) || state.engine_error.is_some()
            }
            Action::SetDataset { dataset, .. } => *dataset == state.dataset || (*dataset == Dataset::Own && state.own_variants().is_empty()),
            Action::SetVariant { variant, .. } => *variant == state.variant,
            Action::PictureReady { serial, .. } | Action::PictureFailed { serial, .. } => state.picture_request.as_ref().is_none_or(|r| r.serial != *serial),
            Action::LabelReady { serial, .. } | Action::LabelFailed { serial, .. } => state.label_request != Some(*serial),
            Action::Response { response, .. } => !state.expects(response),
            Action::Select(name) => *name == state.selected,
            Action::Step(delta) => state.stepped(*delta) == state.selected,
            Action::Point { at, pin: false } => state.hover == *at,
            Action::Point { at, pin: true } => state.hover.is_none() && (at.is_none() || state.at == *at),
            _ => false,
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        if action.is_noop(&self) {
            return self;
        }
        // Cheap: the maps are shared until changed.
        let mut next = Rc::unwrap_or_clone(self);
        match action {
            Action::CatalogLoaded(Ok(m)) => {
                next.catalog = Rc::new(Catalog::Ready(m));
                next.settle_variant();
            }
            Action::CatalogLoaded(Err(message)) => next.catalog = Rc::new(Catalog::Missing(message)),
            Action::FetchProgress { dataset, variant, loaded, total } => next.set_weights(dataset, variant, Weights::Fetching { loaded, total }),
            Action::FetchDone { dataset, variant, serial } => next.set_weights(dataset, variant, Weights::Loading { serial }),
            Action::FetchFailed { dataset, variant, message } => {
                next.set_weights(dataset, variant, Weights::Failed(message));
                next.invalidate(dataset, variant);
            }
            Action::RetryWeights { dataset, variant } => {
                Rc::make_mut(&mut next.weights).remove(&(dataset, variant));
            }
            Action::SetDataset { dataset, at_ms } => {
                next.switch_dataset(dataset, at_ms);
                let own = next.own_variants();
                if dataset == Dataset::Own && !own.contains(&next.variant) {
                    next.variant = own[0];
                }
            }
            Action::OwnOpened { serial, name } => {
                next.own_requests.push(OwnRequest { serial, name });
                next.own_error = None;
            }
            Action::OwnRefused { name, message } => next.own_error = Some(format!("{name} was not opened: {message}")),
            Action::PictureRequested { serial, name, sample, at_ms, refit } => {
                next.picture_request = Some(PictureRequest { serial, name });
                next.picture_error = None;
                if !refit {
                    next.clock = Some((at_ms, if sample.is_some() { "sample to mask" } else { "file to mask" }));
                    next.latency = None;
                    // Choosing a photo leaves the camera.
                    next.camera.stop();
                }
            }
            Action::PictureReady { serial, picture, sample } => {
                next.picture = Some(Shared(picture));
                next.picture_serial = serial;
                next.picture_request = None;
                next.sample = sample;
                next.forget_results();
            }
            Action::PictureFailed { message, .. } => {
                next.picture_request = None;
                next.picture_error = Some(message);
                next.clock = None;
            }
            Action::LabelRequested { serial } => next.label_request = Some(serial),
            Action::LabelReady { label, .. } => {
                next.label = Some(Shared(label));
                next.label_error = None;
                next.label_request = None;
            }
            Action::LabelFailed { message, .. } => {
                next.label_error = Some(message);
                next.label_request = None;
            }
            Action::SetVariant { variant, at_ms } => next.set_variant(variant, at_ms),
            Action::Lesson(step) => next.lesson = step.map(|n| n.min(lesson::STEPS - 1)),
            Action::Show { show, at_ms } => {
                if show.variant != next.variant && !matches!(next.availability(show.variant), Availability::Unavailable(_) | Availability::Stopped) {
                    next.set_variant(show.variant, at_ms);
                }
                next.select(&show.stage);
                next.channel = show.channel;
                next.focus = Some(show.focus);
            }
            Action::StartTrace { serial, variant } => {
                let trace = Trace { serial, model: None, stages: Vec::new(), mask: None, mask_ms: None, forward_ms: None, error: None };
                Rc::make_mut(&mut next.traces).insert(variant, trace);
            }
            Action::StartSegment { serial, variant } => {
                Rc::make_mut(&mut next.segments).insert(variant, SegmentRun::Running(serial));
            }
            Action::Response { response, at_ms } => next.answer(*response, at_ms),
            Action::Select(name) => next.select(&name),
            Action::Step(delta) => {
                let name = next.stepped(delta);
                next.select(&name);
            }
            Action::SelectChannel(c) => next.channel = c,
            Action::SetScale(s) => next.scale = s,
            Action::SetOpacity(o) => next.opacity = o.clamp(0.0, 1.0),
            Action::Point { at, pin } => {
                next.hover = if pin { None } else { at };
                if pin && at.is_some() {
                    next.at = at;
                }
            }
            Action::SetAblation(off) => next.ablation.off = off,
            Action::StartAblation { serial, key } => next.ablation.run = Some(AblationRun { serial, key, result: None }),
            Action::CameraStart => next.camera.start(),
            Action::CameraOpened(result) => next.camera.opened(result),
            Action::CameraStop => next.camera.stop(),
            Action::CameraFailed(error) => next.camera.failed(error),
            Action::CameraSideBySide(on) => next.camera.set_side_by_side(on),
            Action::CameraFrameSent(frame) => next.camera.sent(frame),
            Action::CameraFrameLate { at_ms } => next.camera.expire(at_ms),
        }
        Rc::new(next)
    }
}

/// What the state's and the lesson's tests share: a manifest, a picture, the worker's answers.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::protocol::{InputImage, Request, TracePart};
    use crate::trace::Engine;

    pub(crate) const TN: Variant = Variant::new(Upsample::Transposed, Skip::None);
    pub(crate) const TA: Variant = Variant::new(Upsample::Transposed, Skip::Add);
    pub(crate) const TC: Variant = Variant::new(Upsample::Transposed, Skip::Concat);
    pub(crate) const CAMVID: Dataset = Dataset::Camvid;

    /// A manifest listing `ids` like `camvid-transposed-none`.
    pub(crate) fn manifest_with(ids: &[&str]) -> Manifest {
        let models: Vec<String> = ids
            .iter()
            .map(|id| {
                let mut parts = id.split('-');
                let (d, u, s) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                let [h, w] = d.parse::<Dataset>().unwrap().working_size();
                format!(
                    r#"{{"id":"{id}","dataset":"{d}","upsample":"{u}","skip":"{s}","file":"{id}.safetensors","bytes":100,"parameters":10,
                    "working_size":[{h},{w}],"epochs":1,"train_seconds":1.0,"test":{{"g":0.5,"c":0.4,"miou":0.3,"bf":null,"iou":[0.1,null],"pixels":9,"images":1}}}}"#
                )
            })
            .collect();
        crate::manifest::parse(format!(r#"{{"format_version":1,"models":[{}]}}"#, models.join(",")).as_bytes()).unwrap()
    }

    /// A 96 x 128 picture of which the top-left 90 x 120 is the photo.
    pub(crate) fn image() -> InputImage {
        let (h, w) = (96, 128);
        let rgb = (0..h * w * 3).map(|i| (i * 7 % 251) as u8).collect();
        InputImage { height: h, width: w, valid_height: 90, valid_width: 120, rgb }
    }

    pub(crate) fn picture(to: Fit) -> Rc<Picture> {
        let input = image();
        let rgba = vec![0; input.valid_height * input.valid_width * 4];
        Rc::new(Picture { name: "p.jpg".into(), original: (90, 120), fitted_to: to, input, rgba, note: None })
    }

    /// The worker's answers to `request`.
    pub(crate) fn answers(engine: &mut Engine, request: Request) -> Vec<Response> {
        let mut out = Vec::new();
        engine.handle(request, &|| 0.0, &mut |r| out.push(r));
        out
    }

    pub(crate) fn respond(state: Rc<State>, response: Response, at_ms: f64) -> Rc<State> {
        state.reduce(Action::Response { response: Box::new(response), at_ms })
    }

    /// `state` once the worker has answered a trace (`trace`) or a segmentation of its
    /// picture through `variant`, sent as request `serial`.
    fn ran(engine: &mut Engine, state: Rc<State>, variant: Variant, serial: u32, trace: bool) -> Rc<State> {
        let (image, dataset) = (state.picture.as_ref().unwrap().input.clone(), state.dataset);
        let (start, request) = if trace {
            (Action::StartTrace { serial, variant }, Request::Trace { serial, dataset, variant, image, part: TracePart::Whole })
        } else {
            (Action::StartSegment { serial, variant }, Request::Segment { serial, dataset, variant, image })
        };
        answers(engine, request).into_iter().fold(state.reduce(start), |s, r| respond(s, r, 0.0))
    }

    pub(crate) fn traced(engine: &mut Engine, state: Rc<State>, variant: Variant, serial: u32) -> Rc<State> {
        ran(engine, state, variant, serial, true)
    }

    pub(crate) fn segmented(engine: &mut Engine, state: Rc<State>, variant: Variant, serial: u32) -> Rc<State> {
        ran(engine, state, variant, serial, false)
    }

    /// A state without a manifest (random weights) showing a picture from request 1
    /// through transposed-add.
    pub(crate) fn showing_a_picture() -> Rc<State> {
        let s = Rc::new(State::from_url(&UrlState { variant: Some(TA), ..UrlState::default() })).reduce(Action::CatalogLoaded(Err("none".into())));
        let s = s.reduce(Action::PictureRequested { serial: 1, name: "p.jpg".into(), sample: None, at_ms: 100.0, refit: false });
        let to = s.fit();
        s.reduce(Action::PictureReady { serial: 1, picture: picture(to), sample: None })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::protocol::{Request, TracePart};
    use crate::trace::Engine;

    #[test]
    fn a_crashed_worker_is_replaced_and_what_it_held_is_asked_again() {
        let mut state = Rc::new(State::from_url(&UrlState { variant: Some(TA), ..UrlState::default() })).reduce(Action::CatalogLoaded(Ok(manifest_with(&[
            "camvid-transposed-none",
            "camvid-transposed-add",
            "camvid-transposed-concat",
        ]))));
        state = state.reduce(Action::FetchDone { dataset: CAMVID, variant: TN, serial: 1 });
        state = state.reduce(Action::FetchProgress { dataset: CAMVID, variant: TA, loaded: 1.0, total: None });
        state = state.reduce(Action::FetchFailed { dataset: CAMVID, variant: TC, message: "HTTP 500".into() });
        state = state.reduce(Action::StartSegment { serial: 3, variant: TN });
        let (selected, lesson) = (state.selected.clone(), state.lesson);
        state = respond(state, Response::Crashed { message: "memory allocation of 9 bytes failed".into() }, 0.0);
        assert_eq!((state.engine_error.as_deref(), state.worker_restarts), (None, 1));
        assert_eq!(state.recovered_from.as_deref(), Some("memory allocation of 9 bytes failed"));
        // What the dead worker was reading is read again (once the shown variant's download
        // under way is in); that download goes on; a failed one stays failed; the run in
        // flight is asked again; the view is kept.
        assert_eq!(state.weights.get(&(CAMVID, TN)), None);
        assert!(matches!(state.weights.get(&(CAMVID, TA)), Some(Weights::Fetching { .. })));
        assert!(matches!(state.weights.get(&(CAMVID, TC)), Some(Weights::Failed(_))));
        assert!(state.wanted_weights().is_empty());
        let settled = state.clone().reduce(Action::FetchFailed { dataset: CAMVID, variant: TA, message: "HTTP 500".into() });
        assert_eq!(settled.wanted_weights().iter().map(|(v, _)| *v).collect::<Vec<_>>(), [TN]);
        assert_eq!(state.segments.get(&TN), None);
        assert!(!state.running());
        assert_eq!((state.selected.clone(), state.lesson), (selected, lesson));
        assert_ne!(state.availability(TA), Availability::Stopped);
        // Up to WORKER_RESTARTS times; the next crash stops the engine.
        for _ in 1..WORKER_RESTARTS {
            state = respond(state, Response::Crashed { message: "again".into() }, 0.0);
        }
        assert_eq!((state.engine_error.as_deref(), state.worker_restarts), (None, WORKER_RESTARTS));
        state = respond(state, Response::Crashed { message: "and again".into() }, 0.0);
        assert_eq!(state.engine_error.as_deref(), Some("and again"));
        assert_eq!(state.availability(TA), Availability::Stopped);
    }

    #[test]
    fn a_crashed_worker_fails_what_was_in_flight_and_nothing_more_runs() {
        let mut state = Rc::new(State::from_url(&UrlState { variant: Some(TA), ..UrlState::default() }))
            .reduce(Action::CatalogLoaded(Ok(manifest_with(&["camvid-transposed-none", "camvid-transposed-add"]))));
        state = state.reduce(Action::FetchDone { dataset: CAMVID, variant: TN, serial: 1 });
        state = state.reduce(Action::FetchProgress { dataset: CAMVID, variant: TA, loaded: 1.0, total: None });
        state = state.reduce(Action::StartTrace { serial: 2, variant: TA });
        state = state.reduce(Action::StartSegment { serial: 3, variant: TN });
        assert!(state.running());
        // The worker was already replaced as often as it is: this crash stops the engine.
        Rc::make_mut(&mut state).worker_restarts = WORKER_RESTARTS;
        state = respond(state, Response::Crashed { message: "panicked at engine.rs:1:1".into() }, 0.0);
        assert_eq!(state.engine_error.as_deref(), Some("panicked at engine.rs:1:1"));
        let stopped = ENGINE_STOPPED.to_string();
        assert!(!state.running());
        assert_eq!(state.trace().unwrap().error.as_ref(), Some(&stopped));
        assert_eq!(state.segments.get(&TN), Some(&SegmentRun::Failed(stopped.clone())));
        assert_eq!(state.status_error().as_ref(), Some(&stopped));
        for v in [TN, TA] {
            assert_eq!(state.weights.get(&(CAMVID, v)), Some(&Weights::Failed(stopped.clone())), "{v}");
            assert_eq!(state.availability(v), Availability::Stopped);
        }
        assert!(state.wanted_weights().is_empty());
        assert!(state.compare_slots().iter().all(|(_, slot)| *slot == Slot::Missing(stopped.clone())));
        // A download finishing later, or a later panic, changes nothing: the first cause stays.
        let after = state.clone().reduce(Action::FetchDone { dataset: CAMVID, variant: TA, serial: 4 });
        assert!(Rc::ptr_eq(&after, &state));
        let after = respond(state.clone(), Response::Crashed { message: "already borrowed".into() }, 0.0);
        assert_eq!(after.engine_error.as_deref(), Some("panicked at engine.rs:1:1"));
        // Even without a manifest (random weights), nothing can run any more.
        let mut random = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("none".into())));
        Rc::make_mut(&mut random).worker_restarts = WORKER_RESTARTS;
        let random = respond(random, Response::Crashed { message: "x".into() }, 0.0);
        assert!(!random.availability(TA).runnable());
    }

    #[test]
    fn availability_follows_the_manifest_and_the_downloads() {
        let mut state = Rc::new(State::default());
        assert_eq!(state.availability(TA), Availability::Pending);
        // Only transposed-none is published: the default (transposed-concat) is not, so the page
        // switches to it and disables the others.
        state = state.reduce(Action::CatalogLoaded(Ok(manifest_with(&["camvid-transposed-none", "ccp-transposed-add", "ccp-transposed-concat"]))));
        assert_eq!(state.variant, TN);
        assert!(matches!(state.availability(TA), Availability::Unavailable(_)));
        assert_eq!(state.availability(TN), Availability::Pending);
        let all = state.availability_all();
        assert_eq!(all.len(), 9);
        assert_eq!(all.iter().filter(|(_, a)| matches!(a, Availability::Unavailable(_))).count(), 8);
        // The downloads wanted: only the published one, once.
        assert_eq!(state.wanted_weights().iter().map(|(v, e)| (*v, e.id.as_str())).collect::<Vec<_>>(), [(TN, "camvid-transposed-none")]);
        state = state.reduce(Action::FetchProgress { dataset: CAMVID, variant: TN, loaded: 10.0, total: Some(100.0) });
        assert!(state.wanted_weights().is_empty(), "a download starts once");
        assert_eq!(state.weights.get(&(CAMVID, TN)), Some(&Weights::Fetching { loaded: 10.0, total: Some(100.0) }));
        state = state.reduce(Action::FetchFailed { dataset: CAMVID, variant: TN, message: "HTTP 404".into() });
        assert_eq!(state.availability(TN), Availability::Random);
        assert!(state.wanted_weights().is_empty(), "a failed download is not retried by itself");
        // Asked to, it is wanted again; a retry of weights that did not fail changes nothing.
        let retried = state.clone().reduce(Action::RetryWeights { dataset: CAMVID, variant: TN });
        assert_eq!(retried.wanted_weights().iter().map(|(v, _)| *v).collect::<Vec<_>>(), [TN]);
        assert_eq!(retried.availability(TN), Availability::Pending);
        assert!(Rc::ptr_eq(&retried.clone().reduce(Action::RetryWeights { dataset: CAMVID, variant: TN }), &retried));
        // The people models: transposed-none is not published there, so the page shows the
        // default, transposed-concat, at CCP's working size, and says why; the CamVid
        // download's state is kept.
        state = state.reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
        assert_eq!((state.dataset, state.variant), (Dataset::Ccp, TC));
        assert_eq!(state.variant_note.as_deref(), Some("transposed-none has no trained weights for People (CCP) yet, so transposed-concat is shown instead."));
        assert_eq!(state.working_size(), [256, 176]);
        assert_eq!(state.fit(), Fit { size: [256, 176], multiple: 16 });
        assert_eq!(state.availability(TC), Availability::Pending);
        assert!(matches!(state.availability(TN), Availability::Unavailable(_)));
        assert!(matches!(state.weights.get(&(CAMVID, TN)), Some(Weights::Failed(_))));
        assert_eq!(state.published(Dataset::Ccp).count(), 2);
        assert_eq!(state.wanted_weights().iter().map(|(v, _)| *v).collect::<Vec<_>>(), [TC], "the variant first");
        state = state.reduce(Action::FetchDone { dataset: Dataset::Ccp, variant: TC, serial: 20 });
        assert!(state.wanted_weights().is_empty(), "the others wait while the shown variant's weights load");
        let model = Engine::new().segment(Dataset::Ccp, TC, &image()).unwrap().0;
        state = respond(state, Response::Loaded { serial: 20, dataset: Dataset::Ccp, variant: TC, model }, 0.0);
        assert_eq!(state.wanted_weights().iter().map(|(v, _)| *v).collect::<Vec<_>>(), [TA], "then the other skips");
        assert_eq!(state.published_summary(Dataset::Ccp), "2 trained variants; best test mIoU 30.0% (transposed-concat)", "ties: the last");
        // No manifest at all: everything runs with random weights.
        let missing = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("HTTP 404".into())));
        assert!(matches!(*missing.catalog, Catalog::Missing(_)));
        assert_eq!(missing.availability(TA), Availability::Random);
        assert_eq!(missing.published_summary(CAMVID), "no trained weights published yet");
        assert!(crate::manifest::parse(b"{\"format_version\":2,\"models\":[]}").is_err());
        assert!(crate::manifest::parse(b"<html>").is_err());
    }

    #[test]
    fn a_trace_fills_in_stage_by_stage_and_answers_of_other_serials_are_dropped() {
        let v = TA;
        let mut state = showing_a_picture();
        assert_eq!(state.wanted_trace(), Some(v));
        assert!(state.wanted_segments().is_empty(), "not before the trace is done");
        let mut engine = Engine::new();
        let responses = answers(&mut engine, Request::Trace { serial: 7, dataset: CAMVID, variant: v, image: image(), part: TracePart::Whole });
        state = state.reduce(Action::StartTrace { serial: 7, variant: v });
        assert!(state.running());
        assert_eq!(state.wanted_trace(), None);
        // Answers with another serial, or naming another variant, change nothing.
        for stale in [
            Response::Failed { serial: 6, variant: v, message: "old".into() },
            Response::Failed { serial: 7, variant: TN, message: "other".into() },
            Response::Segmented {
                serial: 7,
                variant: v,
                model: engine.segment(CAMVID, v, &image()).unwrap().0,
                mask: Mask { height: 0, width: 0, classes: vec![] },
                ms: 0.0,
            },
        ] {
            assert!(Rc::ptr_eq(&respond(state.clone(), stale, 0.0), &state));
        }
        let masks_before = state.masks.clone();
        let n = responses.len();
        assert!(matches!(&responses[..2], [Response::Started { .. }, Response::Mask { .. }]), "the mask comes before every stage");
        let mut stages = 0;
        for (i, r) in responses.into_iter().enumerate() {
            let is_stage = matches!(r, Response::Stage { .. });
            let is_mask = matches!(r, Response::Mask { .. });
            let before = state.clone();
            state = respond(state, r, 150.0);
            if is_mask {
                // The mask shows, and stops the clock, while the stages are still to come.
                assert!(state.mask().is_some() && state.running() && state.shapes().is_empty());
                assert_eq!(state.latency, Some(("file to mask", 50.0)), "the clock is the actions' time");
                assert!(state.trace().unwrap().mask_ms.is_some());
                assert!(state.wanted_segments().is_empty(), "the comparison waits for the stages");
            }
            if is_stage {
                stages += 1;
                // A streamed stage touches the trace alone: the other maps stay shared.
                assert!(Rc::ptr_eq(&state.masks, &before.masks) && Rc::ptr_eq(&state.weights, &before.weights) && Rc::ptr_eq(&state.catalog, &before.catalog));
                assert_eq!(state.compare_slots(), before.compare_slots(), "the comparison's props do not change");
                assert_eq!(state.shapes().len(), stages, "stage {i}");
            }
            assert!(i + 1 == n || state.running());
        }
        assert!(!Rc::ptr_eq(&state.masks, &masks_before));
        let t = state.trace().unwrap();
        assert_eq!(t.stages.len(), stage_names(4).len());
        assert_eq!(state.ready_stages().len(), stage_names(4).len());
        assert_eq!(state.selected_stage().unwrap().name, "dec.0");
        assert!(t.mask.is_some() && !state.running());
        assert!(state.masks.contains_key(&v));
        assert_eq!(state.latency, Some(("file to mask", 50.0)), "the clock is the actions' time");
        assert_eq!(state.classes(), CAMVID.classes());
        // Once the trace is done the other skip modes are wanted for the comparison.
        assert_eq!(state.wanted_segments(), [TN, TC]);
        state = state.reduce(Action::StartSegment { serial: 8, variant: TN });
        state = state.reduce(Action::StartSegment { serial: 9, variant: TC });
        assert!(state.wanted_segments().is_empty());
        for r in answers(&mut engine, Request::Segment { serial: 8, dataset: CAMVID, variant: TN, image: image() }) {
            state = respond(state, r, 0.0);
        }
        state = respond(state, Response::Failed { serial: 9, variant: TC, message: "bad".into() }, 0.0);
        let slots = state.compare_slots();
        assert!(matches!(&slots[0], (Skip::None, Slot::Ready(_))));
        assert!(matches!(&slots[1], (Skip::Add, Slot::Ready(_))));
        assert_eq!(slots[2], (Skip::Concat, Slot::Missing("bad".into())));
        state = state.reduce(Action::PictureFailed { serial: 1, message: "late".into() });
        assert!(state.picture_error.is_none(), "an answer to a request no longer awaited is dropped");
        state = state.reduce(Action::PictureRequested { serial: 10, name: "notes.png".into(), sample: None, at_ms: 0.0, refit: false });
        state = state.reduce(Action::PictureFailed { serial: 10, message: "not an image".into() });
        assert_eq!(state.picture_error.as_deref(), Some("not an image"));
        assert!(state.trace().unwrap().mask.is_some(), "the previous result stays");
        // Another dataset's models: the results go, and answers to earlier runs are dropped.
        let switched = state.clone().reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
        assert!(switched.trace().is_none() && switched.masks.is_empty() && switched.segments.is_empty());
        let late = respond(switched.clone(), Response::Failed { serial: 7, variant: v, message: "late".into() }, 0.0);
        assert!(Rc::ptr_eq(&late, &switched));
    }

    #[test]
    fn a_toggle_to_a_variant_whose_comparison_mask_is_on_its_way_stops_the_clock_when_it_arrives() {
        let mut engine = Engine::new();
        let mut state = traced(&mut engine, showing_a_picture(), TA, 2);
        state = state.reduce(Action::StartSegment { serial: 3, variant: TN });
        state = state.reduce(Action::SetVariant { variant: TN, at_ms: 200.0 });
        assert_eq!((state.clock, state.mask()), (Some((200.0, "toggle to mask")), None));
        for r in answers(&mut engine, Request::Segment { serial: 3, dataset: CAMVID, variant: TN, image: image() }) {
            state = respond(state, r, 260.0);
        }
        assert!(state.mask().is_some());
        assert_eq!((state.clock, state.latency), (None, Some(("toggle to mask", 60.0))));
    }

    #[test]
    fn a_traces_mask_from_its_end_stands_when_the_mask_half_comes_later() {
        // The two halves of a trace come from two workers: the stages half may finish first.
        let mut engine = Engine::new();
        let mut state = showing_a_picture().reduce(Action::StartTrace { serial: 2, variant: TA });
        let image = state.picture.as_ref().unwrap().input.clone();
        let mask_half = answers(&mut engine, Request::Trace { serial: 2, dataset: CAMVID, variant: TA, image: image.clone(), part: TracePart::Mask });
        for r in answers(&mut engine, Request::Trace { serial: 2, dataset: CAMVID, variant: TA, image, part: TracePart::Stages }) {
            state = respond(state, r, 180.0);
        }
        assert!(!state.running() && state.mask().is_some() && state.ready_stages().len() == stage_names(4).len());
        assert_eq!(state.latency, Some(("file to mask", 80.0)));
        assert!(state.trace().unwrap().mask_ms.is_none());
        for r in mask_half {
            assert!(Rc::ptr_eq(&respond(state.clone(), r, 300.0), &state), "the late half changes nothing");
        }
    }

    #[test]
    fn a_new_picture_or_dataset_drops_the_label_decoded_for_the_old_one() {
        let label = Rc::new(Label { name: "l.png".into(), height: 1, width: 1, classes: vec![0], void: 11 });
        let state = showing_a_picture().reduce(Action::LabelRequested { serial: 2 });
        let fresh = state.clone().reduce(Action::LabelReady { serial: 2, label: label.clone() });
        assert!(fresh.label.is_some() && fresh.label_request.is_none());
        assert!(fresh.clone().reduce(Action::LabelFailed { serial: 2, message: "twice".into() }).label_error.is_none());
        let failed = state.clone().reduce(Action::LabelFailed { serial: 2, message: "bad".into() });
        assert_eq!(failed.label_error.as_deref(), Some("bad"));
        let switched = state.clone().reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
        assert!(switched.clone().reduce(Action::LabelReady { serial: 2, label: label.clone() }).label.is_none());
        let to = state.fit();
        let another = state.clone().reduce(Action::PictureRequested { serial: 3, name: "q.jpg".into(), sample: None, at_ms: 0.0, refit: false });
        let another = another.reduce(Action::PictureReady { serial: 3, picture: picture(to), sample: None });
        assert_eq!(another.picture_serial, 3);
        assert!(another.reduce(Action::LabelReady { serial: 2, label }).label.is_none());
        assert_eq!(state.label_format(), "the legend's colours, or class indices 0–10 with 11 = void");
        assert_eq!(label_void(Dataset::Ccp), 4, "CCP has no void label: the first value after its classes");
    }

    #[test]
    fn only_the_latest_picture_request_is_shown() {
        let s = Rc::new(State::default()).reduce(Action::CatalogLoaded(Err("none".into())));
        let s = s.reduce(Action::PictureRequested { serial: 1, name: "a".into(), sample: Some("astronaut".into()), at_ms: 5.0, refit: false });
        assert_eq!(s.clock, Some((5.0, "sample to mask")));
        let s = s.reduce(Action::PictureRequested { serial: 2, name: "b.jpg".into(), sample: None, at_ms: 9.0, refit: false });
        let to = s.fit();
        let slow = s.clone().reduce(Action::PictureReady { serial: 1, picture: picture(to), sample: Some("astronaut".into()) });
        assert!(Rc::ptr_eq(&slow, &s), "a slow decode never replaces a newer request");
        let s = s.reduce(Action::PictureReady { serial: 2, picture: picture(to), sample: None });
        assert_eq!((s.picture_serial, s.picture_request.as_ref(), s.clock), (2, None, Some((9.0, "file to mask"))));
        // A refit keeps the clock of what caused it.
        let s = s.reduce(Action::SetVariant { variant: TN, at_ms: 20.0 });
        let s = s.reduce(Action::PictureRequested { serial: 3, name: "b.jpg".into(), sample: None, at_ms: 30.0, refit: true });
        assert_eq!(s.clock, Some((20.0, "toggle to mask")));
        assert_eq!(s.url().variant, Some(TN));
    }

    #[test]
    fn the_mask_is_coming_while_its_weights_are_read_and_its_trace_runs_and_not_after_a_failure() {
        let mut s = Rc::new(State::from_url(&UrlState { variant: Some(TA), ..UrlState::default() }))
            .reduce(Action::CatalogLoaded(Ok(manifest_with(&["camvid-transposed-add"]))));
        s = s.reduce(Action::PictureRequested { serial: 1, name: "a".into(), sample: None, at_ms: 0.0, refit: false });
        let to = s.fit();
        s = s.reduce(Action::PictureReady { serial: 1, picture: picture(to), sample: None });
        s = s.reduce(Action::FetchProgress { dataset: CAMVID, variant: TA, loaded: 1.0, total: None });
        assert!(s.wanted_trace().is_none() && s.mask_coming(), "the weights are being read");
        assert_eq!(s.waiting_for(), "Waiting for the model's weights.");
        s = s.reduce(Action::FetchFailed { dataset: CAMVID, variant: TA, message: "HTTP 500".into() });
        assert!(s.wanted_trace().is_some() && s.mask_coming(), "random weights: the trace is wanted");
        s = s.reduce(Action::StartTrace { serial: 2, variant: TA });
        assert!(s.running() && s.mask_coming());
        s = respond(s, Response::Failed { serial: 2, variant: TA, message: "no".into() }, 0.0);
        assert!(s.mask().is_none() && !s.mask_coming(), "a failed run: no mask comes");
    }

    #[test]
    fn the_padding_multiple_is_two_to_the_shown_models_depth() {
        let manifest = manifest_with(&["camvid-transposed-add"]);
        let mut s = Rc::new(State::default()).reduce(Action::CatalogLoaded(Ok(manifest)));
        assert_eq!(s.fit(), Fit { size: [192, 256], multiple: 16 }, "the published depth until the model is known");
        s = s.reduce(Action::PictureRequested { serial: 1, name: "a".into(), sample: None, at_ms: 0.0, refit: false });
        let to = s.fit();
        s = s.reduce(Action::PictureReady { serial: 1, picture: picture(to), sample: None });
        assert!(s.fits() && !s.needs_refit());
        s = s.reduce(Action::FetchDone { dataset: CAMVID, variant: TA, serial: 2 });
        assert_eq!(s.wanted_trace(), None, "its weights are being read");
        // The weights hold a model of depth 2: the picture must be padded to 4 instead.
        let mut engine = Engine::new();
        let shallow = ModelSummary { depth: 2, ..engine.segment(CAMVID, TA, &image()).unwrap().0 };
        let stale = Response::Loaded { serial: 1, dataset: CAMVID, variant: TA, model: shallow.clone() };
        assert!(Rc::ptr_eq(&respond(s.clone(), stale, 0.0), &s), "a load is answered under its own serial");
        s = respond(s, Response::Loaded { serial: 2, dataset: CAMVID, variant: TA, model: shallow }, 0.0);
        assert_eq!(s.depth(), 2);
        assert_eq!(s.fit(), Fit { size: [192, 256], multiple: 4 });
        assert!(!s.fits() && s.needs_refit());
        assert_eq!(s.wanted_trace(), None, "nothing runs until the picture is fit again");
        assert_eq!(stage_names(s.depth()).len(), 9);
    }

    #[test]
    fn stepping_visits_every_stage_in_order_and_stops_at_the_ends() {
        let mut state = Rc::new(State::from_url(&UrlState { stage: Some("input".into()), ..UrlState::default() }));
        state = state.reduce(Action::SelectChannel(Some(3)));
        let mut seen = vec![state.selected.clone()];
        for _ in 0..30 {
            state = state.reduce(Action::Step(1));
            if seen.last() != Some(&state.selected) {
                seen.push(state.selected.clone());
                assert_eq!(state.channel, None, "another stage shows all its channels");
            }
        }
        assert_eq!(seen, stage_names(4));
        let end = state.clone().reduce(Action::Step(1));
        assert!(Rc::ptr_eq(&end, &state), "stepping past the end changes nothing");
        assert_eq!(state.reduce(Action::Step(-100)).selected, "input");
        assert_eq!(Rc::new(State::default()).reduce(Action::SetOpacity(3.0)).opacity, 1.0);
    }

    #[test]
    fn an_own_model_opens_beside_the_published_ones_and_a_refused_file_loses_nothing() {
        use skipscope_engine::weights::{self, ModelMeta, Normalization, Storage};
        use skipscope_engine::{Model, ModelConfig};
        let file = |variant: Variant, n_classes: usize| {
            let config = ModelConfig { in_channels: 3, n_classes, depth: 2, width: 4, upsample: variant.upsample, skip: variant.skip };
            let classes = (0..n_classes).map(|i| ClassInfo { name: format!("thing {i}"), color: [9, 9, 9] }).collect();
            let recipe = serde_json::json!({ "height": 64, "width": 96 });
            let meta = ModelMeta { config, classes, normalization: Normalization::imagenet(), recipe, metrics: serde_json::json!({ "val": { "miou": 0.25 } }) };
            weights::save(&mut Model::<f32>::new(config, 3).unwrap(), &meta, Storage::F32).unwrap()
        };
        let mut engine = Engine::new();
        let open = |engine: &mut Engine, s: Rc<State>, serial: u32, name: &str, variant: Variant, bytes: Vec<u8>| {
            let s = s.reduce(Action::OwnOpened { serial, name: name.into() });
            answers(engine, Request::Load { serial, dataset: Dataset::Own, variant, bytes }).into_iter().fold(s, |s, r| respond(s, r, 0.0))
        };
        let s = showing_a_picture();
        assert!(s.clone().reduce(Action::SetDataset { dataset: Dataset::Own, at_ms: 0.0 }).dataset != Dataset::Own, "no own file yet: no own model");
        let bn = Variant::new(Upsample::Bilinear, Skip::None);
        let s = open(&mut engine, s, 5, "mine.safetensors", bn, file(bn, 3));
        assert_eq!((s.dataset, s.variant), (Dataset::Own, bn), "shown once loaded");
        assert!(s.own_requests.is_empty() && s.own_error.is_none());
        assert_eq!(s.availability(bn), Availability::Trained);
        assert_eq!(s.availability(TA), Availability::Unavailable("you have not opened a transposed-add file".into()));
        assert_eq!(s.classes().len(), 3);
        assert_eq!(s.fit(), Fit { size: [64, 96], multiple: 4 }, "the recipe's size, padded for its depth");
        assert_eq!(s.url().dataset, None, "an own model is not in the URL");
        assert_eq!(s.own_summary(), "your file: bilinear-none; bilinear-none: validation mIoU 25.0%");
        assert!(s.traces.is_empty(), "the picture's results are of another model");
        // A second variant of the same model adds a toggle.
        let s = open(&mut engine, s, 6, "mine-add.safetensors", TA, file(TA, 3));
        assert_eq!((s.own_variants(), s.variant), (vec![TA, bn], TA));
        // A truncated file is refused with its name; the loaded model stays, in the engine too.
        let bytes = file(TN, 3);
        let s = open(&mut engine, s, 7, "cut.safetensors", TN, bytes[..bytes.len() / 2].to_vec());
        let error = s.own_error.clone().unwrap();
        assert!(error.starts_with("cut.safetensors was not opened: bad weights file for transposed-none"), "{error}");
        assert_eq!((s.own_variants(), s.variant), (vec![TA, bn], TA));
        assert!(engine.segment(Dataset::Own, TA, &image()).unwrap().0.trained);
        // A stale answer (a serial not awaited) changes nothing.
        let stale = answers(&mut engine, Request::Load { serial: 99, dataset: Dataset::Own, variant: TN, bytes: file(TN, 3) });
        assert!(Rc::ptr_eq(&s, &respond(s.clone(), stale[0].clone(), 0.0)));
        // Leaving for a published dataset and coming back finds it.
        let s = s.reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 0.0 });
        assert_eq!(s.dataset, Dataset::Ccp);
        let s = s.reduce(Action::SetDataset { dataset: Dataset::Own, at_ms: 0.0 });
        assert!(s.own_variants().contains(&s.variant));
        // A model of other classes replaces it.
        let s = open(&mut engine, s, 8, "other.safetensors", TN, file(TN, 5));
        assert_eq!((s.own_variants(), s.variant, s.classes().len()), (vec![TN], TN, 5));
        let s = s.reduce(Action::OwnRefused { name: "huge.safetensors".into(), message: "it is 300 MB".into() });
        assert_eq!(s.own_error.as_deref(), Some("huge.safetensors was not opened: it is 300 MB"));
        assert_eq!(s.own_variants(), vec![TN]);
        // The new workers after a crash cannot have the user's files back: the page says so
        // and shows the published models.
        let s = respond(s, Response::Crashed { message: "boom".into() }, 0.0);
        assert_eq!((s.dataset, s.own_variants(), s.worker_restarts), (DEFAULT_DATASET, vec![], 1));
        assert!(s.own_error.as_deref().unwrap().contains("open them again"));
    }

    #[test]
    fn the_camera_runs_one_frame_at_a_time_through_the_shown_variants_and_the_photo_waits() {
        let mut engine = Engine::new();
        let s = traced(&mut engine, showing_a_picture(), TA, 2);
        assert!(s.wanted_camera_frame().is_empty(), "the camera is off");
        let s = s.reduce(Action::CameraStart).reduce(Action::CameraOpened(Ok(())));
        assert_eq!(s.wanted_camera_frame(), vec![TA]);
        // While the camera is on, the photo's runs wait.
        let s = s.reduce(Action::SetVariant { variant: TC, at_ms: 0.0 });
        assert_eq!((s.wanted_trace(), s.wanted_segments()), (None, vec![]));
        // A frame through the shown variant: the mask worker's mask-only trace answers it.
        let (image, dataset) = (image(), s.dataset);
        let frame = |runs: Vec<(Variant, u32)>| crate::camera::Frame {
            sent_ms: 1000.0,
            rgba: Shared(Rc::new(vec![0; 90 * 120 * 4])),
            height: 90,
            width: 120,
            runs,
            got: Vec::new(),
        };
        let s = s.reduce(Action::CameraFrameSent(frame(vec![(TC, 3)])));
        assert!(s.wanted_camera_frame().is_empty(), "the next frame waits for this one");
        let replies = answers(&mut engine, Request::Trace { serial: 3, dataset, variant: TC, image: image.clone(), part: TracePart::Mask });
        let s = replies.into_iter().fold(s, |s, r| respond(s, r, 1040.0));
        let shown = s.camera.shown.clone().unwrap();
        assert_eq!((s.camera.frames, shown.ms, shown.masks[0].0), (1, 40.0, TC));
        let mask = shown.masks[0].1.clone().unwrap();
        assert_eq!((mask.height, mask.width), (90, 120));
        assert!(!s.traces.contains_key(&TC), "a camera frame is not the photo's trace");
        assert_eq!(s.wanted_camera_frame(), vec![TC]);
        // Side by side: the three skip modes, each answering under its serial.
        let s = s.reduce(Action::CameraSideBySide(true));
        assert_eq!(s.wanted_camera_frame(), vec![TN, TA, TC]);
        let s = s.reduce(Action::CameraFrameSent(frame(vec![(TN, 4), (TA, 5), (TC, 6)])));
        let s =
            answers(&mut engine, Request::Segment { serial: 5, dataset, variant: TA, image: image.clone() }).into_iter().fold(s, |s, r| respond(s, r, 1100.0));
        let s = respond(s, Response::Failed { serial: 4, variant: TN, message: "bad".into() }, 1100.0);
        assert_eq!(s.camera.frames, 1, "a frame is shown once all its runs answered");
        let s =
            answers(&mut engine, Request::Segment { serial: 6, dataset, variant: TC, image: image.clone() }).into_iter().fold(s, |s, r| respond(s, r, 1200.0));
        let shown = s.camera.shown.clone().unwrap();
        assert_eq!(shown.masks.iter().map(|(v, m)| (*v, m.is_ok())).collect::<Vec<_>>(), vec![(TN, false), (TA, true), (TC, true)]);
        // A crash loses the frame in flight; the next is sent to the new workers.
        let s = s.reduce(Action::CameraFrameSent(frame(vec![(TN, 7), (TA, 8), (TC, 9)])));
        let s = respond(s, Response::Crashed { message: "boom".into() }, 0.0);
        assert!(s.camera.in_flight.is_none() && s.camera.active());
        // Choosing a photo leaves the camera; the photo's runs go on.
        let s = s.reduce(Action::CameraFrameSent(frame(vec![(TC, 10)])));
        let s = s.reduce(Action::PictureRequested { serial: 11, name: "q.jpg".into(), sample: None, at_ms: 0.0, refit: false });
        assert!(!s.camera.active());
        let late = answers(&mut engine, Request::Trace { serial: 10, dataset, variant: TC, image, part: TracePart::Mask });
        assert!(late.into_iter().all(|r| Rc::ptr_eq(&s, &respond(s.clone(), r, 0.0))), "a stopped camera's answers are dropped");
        let s = s.reduce(Action::CameraStart).reduce(Action::CameraStop);
        assert_eq!(s.wanted_trace(), Some(TC), "stopped: the photo is traced through the variant toggled meanwhile");
    }

    /// Sends and answers camera frames of `variant` alone, one every 100 ms from `at`.
    fn camera_frames(engine: &mut Engine, mut s: Rc<State>, variant: Variant, serials: std::ops::Range<u32>, at: f64) -> Rc<State> {
        for (i, serial) in serials.enumerate() {
            let t = at + i as f64 * 100.0;
            let frame = crate::camera::Frame {
                sent_ms: t - 50.0,
                rgba: Shared(Rc::new(vec![0; 90 * 120 * 4])),
                height: 90,
                width: 120,
                runs: vec![(variant, serial)],
                got: Vec::new(),
            };
            s = s.reduce(Action::CameraFrameSent(frame));
            let request = Request::Trace { serial, dataset: s.dataset, variant, image: image(), part: TracePart::Mask };
            s = answers(engine, request).into_iter().fold(s, |s, r| respond(s, r, t));
        }
        s
    }

    #[test]
    fn the_side_by_side_figure_is_the_shown_models_and_a_toggle_under_the_camera_starts_no_clock() {
        let mut engine = Engine::new();
        let s = traced(&mut engine, showing_a_picture(), TA, 2);
        let s = s.reduce(Action::CameraStart).reduce(Action::CameraOpened(Ok(())));
        let s = camera_frames(&mut engine, s, TA, 10..14, 1000.0);
        assert!((s.camera.single_fps(TA).unwrap() - 10.0).abs() < 1e-9, "{:?}", s.camera.single_fps(TA));
        // The toggle: the figure quoted is the new variant's, none until measured; and no
        // toggle-to-mask clock runs while the camera is on.
        let s = s.reduce(Action::SetVariant { variant: TC, at_ms: 2000.0 });
        assert_eq!((s.camera.single_fps(TC), s.clock), (None, None));
        let s = camera_frames(&mut engine, s, TC, 20..23, 3000.0);
        assert!(s.camera.single_fps(TC).is_some());
        // Stopped later: the photo's trace of TC is no "toggle to mask" of seconds.
        let s = s.reduce(Action::CameraStop);
        assert_eq!(s.clock, None);
        let s = traced(&mut engine, s, TC, 30);
        assert!(!matches!(s.latency, Some(("toggle to mask", _))), "{:?}", s.latency);
        // Another dataset: its figure is measured again, and no switch-to-mask clock runs
        // while the camera is on.
        let s = s.reduce(Action::CameraStart).reduce(Action::CameraOpened(Ok(())));
        let s = camera_frames(&mut engine, s, TC, 40..44, 5000.0);
        assert!(s.camera.single_fps(TC).is_some());
        let s = s.reduce(Action::SetDataset { dataset: Dataset::Ccp, at_ms: 6000.0 });
        assert_eq!((s.camera.single_fps(s.variant), s.clock), (None, None));
        // A track that ended turns the camera off with its message.
        let s = s.reduce(Action::CameraFailed(CameraError::Ended));
        assert_eq!(s.camera.status, crate::camera::Status::Failed(CameraError::Ended));
    }
}

//! The page's state: one reducer. Everything the page shows is derived from [`State`];
//! every change goes through an [`Action`]. Side effects (worker requests, downloads,
//! decoding) live in `app.rs` and report back as actions.

use crate::manifest::{Manifest, ManifestEntry};
use crate::picture::{Label, Picture};
use crate::protocol::{Dataset, Mask, ModelSummary, Response, StageData, Variant};
use crate::Shared;
use skipscope_engine::{stage_names, Skip, Upsample};
use std::collections::HashMap;
use std::rc::Rc;
use yew::Reducible;

/// The variant shown first when the URL names none.
pub const DEFAULT_VARIANT: Variant = Variant::new(Upsample::Transposed, Skip::Add);
/// The stage selected first: the deepest decoder stage's output at full resolution.
pub const DEFAULT_STAGE: &str = "dec.0";
/// The dataset whose models are shown first when the URL names none.
pub const DEFAULT_DATASET: Dataset = Dataset::Camvid;

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
    /// Downloaded; the worker is reading them.
    Loading,
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
    pub run: u32,
    pub model: Option<ModelSummary>,
    /// In network order, as they arrive.
    pub stages: Vec<Shared<StageData>>,
    pub mask: Option<Shared<Mask>>,
    pub forward_ms: Option<f64>,
    pub error: Option<String>,
}

impl Trace {
    pub fn running(&self) -> bool {
        self.mask.is_none() && self.error.is_none()
    }
}

/// A mask of the current picture through a variant, for the comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmentation {
    pub mask: Shared<Mask>,
    pub model: ModelSummary,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub catalog: Catalog,
    /// Every download, of any dataset (switching back finds them).
    pub weights: HashMap<(Dataset, Variant), Weights>,
    /// Whose models are shown: traces, masks and the label below are of this dataset.
    pub dataset: Dataset,
    pub variant: Variant,
    /// The picture shown, with a serial that changes with every new picture.
    pub picture: Option<Shared<Picture>>,
    pub picture_serial: u32,
    /// The sample being fetched or the file being decoded.
    pub picture_loading: Option<String>,
    /// Why the last file was refused (the previous picture and results stay).
    pub picture_error: Option<String>,
    /// A ground-truth label for the picture, to score each skip mode.
    pub label: Option<Shared<Label>>,
    pub label_error: Option<String>,
    /// The sample shown, for the URL (none for uploads).
    pub sample: Option<String>,
    /// Traces of the current picture, per variant (a cache: toggling back is instant).
    pub traces: HashMap<Variant, Trace>,
    /// Masks of the current picture, per variant (from traces and comparisons).
    pub masks: HashMap<Variant, Segmentation>,
    /// Comparison runs in flight: run -> variant.
    pub segment_runs: HashMap<u32, Variant>,
    pub segment_errors: HashMap<Variant, String>,
    /// Responses of runs below this belong to an earlier picture.
    pub first_run_of_picture: u32,
    pub selected: String,
    pub channel: Option<usize>,
    pub scale: ScaleMode,
    pub opacity: f64,
    /// When the user asked for something whose mask is awaited, and what it was.
    pub clock: Option<(f64, &'static str)>,
    /// The last measured time from a request to its mask.
    pub latency: Option<(&'static str, f64)>,
    /// The worker's panic message, once it crashed: nothing more can run until the page is
    /// reloaded.
    pub engine_error: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            catalog: Catalog::Loading,
            weights: HashMap::new(),
            dataset: DEFAULT_DATASET,
            variant: DEFAULT_VARIANT,
            picture: None,
            picture_serial: 0,
            picture_loading: None,
            picture_error: None,
            label: None,
            label_error: None,
            sample: None,
            traces: HashMap::new(),
            masks: HashMap::new(),
            segment_runs: HashMap::new(),
            segment_errors: HashMap::new(),
            first_run_of_picture: 0,
            selected: DEFAULT_STAGE.into(),
            channel: None,
            scale: ScaleMode::PerChannel,
            opacity: 0.6,
            clock: None,
            latency: None,
            engine_error: None,
        }
    }
}

/// What every run, download and toggle says once the worker has crashed.
pub const ENGINE_STOPPED: &str = "the engine stopped on an internal error; reload the page to go on";

impl State {
    /// The manifest's entries of `dataset`, in manifest order.
    pub fn published(&self, dataset: Dataset) -> impl Iterator<Item = &ManifestEntry> {
        let models = match &self.catalog {
            Catalog::Ready(m) => m.models.as_slice(),
            _ => &[],
        };
        models.iter().filter(move |e| e.dataset == dataset)
    }

    /// The manifest's entry for `variant` of the shown dataset.
    pub fn entry(&self, variant: Variant) -> Option<&ManifestEntry> {
        self.published(self.dataset).find(|e| e.upsample == variant.upsample && e.skip == variant.skip)
    }

    /// Whether `variant` of the shown dataset can run now, and with what.
    pub fn availability(&self, variant: Variant) -> Availability {
        if self.engine_error.is_some() {
            return Availability::Stopped;
        }
        match &self.catalog {
            Catalog::Loading => Availability::Pending,
            Catalog::Missing(_) => Availability::Random,
            Catalog::Ready(_) if self.published(self.dataset).next().is_none() => Availability::Random,
            Catalog::Ready(_) => match (self.entry(variant), self.weights.get(&(self.dataset, variant))) {
                (None, _) => Availability::Unavailable(format!("no trained weights for {variant} yet")),
                (Some(_), None | Some(Weights::Fetching { .. }) | Some(Weights::Loading)) => Availability::Pending,
                (Some(_), Some(Weights::Ready(_))) => Availability::Trained,
                (Some(_), Some(Weights::Failed(_))) => Availability::Random,
            },
        }
    }

    /// The working size of the current variant's model (the dataset's until the manifest
    /// says otherwise).
    pub fn working_size(&self) -> [usize; 2] {
        self.entry(self.variant).map(|e| e.working_size).unwrap_or(self.dataset.working_size())
    }

    pub fn trace(&self) -> Option<&Trace> {
        self.traces.get(&self.variant)
    }

    /// The depth of the current model (from its trace, else the published default).
    pub fn depth(&self) -> usize {
        self.trace().and_then(|t| t.model.as_ref()).map(|m| m.depth).unwrap_or(crate::trace::RANDOM_DEPTH)
    }

    /// The mask of the shown variant: from its trace, or from the comparison.
    pub fn mask(&self) -> Option<Shared<Mask>> {
        self.trace().and_then(|t| t.mask.clone()).or_else(|| self.masks.get(&self.variant).map(|s| s.mask.clone()))
    }

    pub fn running(&self) -> bool {
        self.trace().is_some_and(Trace::running)
    }

    fn trace_of_run(&mut self, run: u32) -> Option<&mut Trace> {
        self.traces.values_mut().find(|t| t.run == run)
    }

    /// Forgets every result of `variant` of `dataset` (its model changed).
    fn invalidate(&mut self, dataset: Dataset, variant: Variant) {
        if dataset == self.dataset {
            self.traces.remove(&variant);
            self.masks.remove(&variant);
            self.segment_errors.remove(&variant);
        }
    }

    /// Forgets every result of the picture (the picture or the dataset changed); answers
    /// to runs started before are ignored from now on.
    fn forget_results(&mut self) {
        self.traces.clear();
        self.masks.clear();
        self.segment_runs.clear();
        self.segment_errors.clear();
        self.first_run_of_picture = u32::MAX;
    }

    /// A variant without weights cannot be shown while others of the dataset have them:
    /// shows the default one when published, else the first published.
    fn settle_variant(&mut self) {
        if let Availability::Unavailable(_) = self.availability(self.variant) {
            let published: Vec<Variant> = self.published(self.dataset).map(|e| Variant::new(e.upsample, e.skip)).collect();
            if let Some(v) = published.iter().find(|v| **v == DEFAULT_VARIANT).or(published.first()) {
                self.variant = *v;
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
    /// The download finished; the bytes went to the worker.
    FetchDone {
        dataset: Dataset,
        variant: Variant,
    },
    FetchFailed {
        dataset: Dataset,
        variant: Variant,
        message: String,
    },
    /// Show the models of `dataset`: results and the label are forgotten (the page then
    /// reads the picture again at the dataset's working size).
    SetDataset {
        dataset: Dataset,
        at_ms: f64,
    },
    /// A sample or file is being read; `at_ms` starts the request-to-mask clock, except for
    /// a refit (the shown picture read again for another working size), which keeps it.
    PictureRequested {
        name: String,
        sample: Option<String>,
        at_ms: f64,
        refit: bool,
    },
    PictureReady {
        picture: Rc<Picture>,
        sample: Option<String>,
    },
    PictureFailed(String),
    /// A label image decoded for picture `picture_serial` of `dataset` (dropped if either
    /// changed meanwhile).
    LabelReady {
        label: Rc<Label>,
        picture_serial: u32,
        dataset: Dataset,
    },
    LabelFailed {
        message: String,
        picture_serial: u32,
        dataset: Dataset,
    },
    SetVariant {
        variant: Variant,
        at_ms: f64,
    },
    /// A trace of the current picture through `variant` was sent to the worker.
    StartTrace {
        run: u32,
        variant: Variant,
    },
    StartSegment {
        run: u32,
        variant: Variant,
    },
    /// The worker answered.
    Response(Response),
    Select(String),
    /// Steps `delta` stages through the network order (clamped).
    Step(i32),
    SelectChannel(Option<usize>),
    SetScale(ScaleMode),
    SetOpacity(f64),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::CatalogLoaded(Ok(m)) => {
                next.catalog = Catalog::Ready(m);
                next.settle_variant();
            }
            Action::CatalogLoaded(Err(message)) => next.catalog = Catalog::Missing(message),
            // After a crash nothing is loaded any more: late download news changes nothing.
            Action::FetchProgress { .. } | Action::FetchDone { .. } if self.engine_error.is_some() => return self,
            Action::FetchProgress { dataset, variant, loaded, total } => {
                next.weights.insert((dataset, variant), Weights::Fetching { loaded, total });
            }
            Action::FetchDone { dataset, variant } => {
                next.weights.insert((dataset, variant), Weights::Loading);
            }
            Action::FetchFailed { dataset, variant, message } => {
                next.weights.insert((dataset, variant), Weights::Failed(message));
                next.invalidate(dataset, variant);
            }
            Action::SetDataset { dataset, at_ms } => {
                if dataset == self.dataset {
                    return self;
                }
                next.dataset = dataset;
                next.settle_variant();
                next.forget_results();
                next.label = None;
                next.label_error = None;
                next.channel = None;
                next.clock = Some((at_ms, "model switch to mask"));
                next.latency = None;
            }
            Action::PictureRequested { name, sample, at_ms, refit } => {
                next.picture_loading = Some(name);
                next.picture_error = None;
                if !refit {
                    next.clock = Some((at_ms, if sample.is_some() { "sample to mask" } else { "file to mask" }));
                    next.latency = None;
                }
            }
            Action::PictureReady { picture, sample } => {
                next.picture = Some(Shared(picture));
                next.picture_serial += 1;
                next.picture_loading = None;
                next.sample = sample;
                next.label = None;
                next.label_error = None;
                next.forget_results();
            }
            Action::PictureFailed(message) => {
                next.picture_loading = None;
                next.picture_error = Some(message);
                next.clock = None;
            }
            Action::LabelReady { picture_serial, dataset, .. } | Action::LabelFailed { picture_serial, dataset, .. }
                if picture_serial != self.picture_serial || dataset != self.dataset =>
            {
                return self;
            }
            Action::LabelReady { label, .. } => {
                next.label = Some(Shared(label));
                next.label_error = None;
            }
            Action::LabelFailed { message, .. } => next.label_error = Some(message),
            Action::SetVariant { variant, at_ms } => {
                if variant == self.variant {
                    return self;
                }
                next.variant = variant;
                if next.masks.contains_key(&variant) {
                    // Traced before, or segmented for the comparison: the mask shows at once
                    // (the trace, if missing, fills the stages in behind it).
                    next.latency = Some(("toggle to mask (precomputed)", 0.0));
                    next.clock = None;
                } else {
                    next.clock = Some((at_ms, "toggle to mask"));
                    next.latency = None;
                }
            }
            Action::StartTrace { run, variant } => {
                next.first_run_of_picture = next.first_run_of_picture.min(run);
                next.traces.insert(variant, Trace { run, model: None, stages: Vec::new(), mask: None, forward_ms: None, error: None });
            }
            Action::StartSegment { run, variant } => {
                next.first_run_of_picture = next.first_run_of_picture.min(run);
                next.segment_runs.insert(run, variant);
            }
            Action::Response(r) => {
                if r.run().is_some_and(|run| run < self.first_run_of_picture) {
                    return self;
                }
                match r {
                    Response::Loaded { dataset, variant, model } => {
                        next.weights.insert((dataset, variant), Weights::Ready(model));
                        next.invalidate(dataset, variant);
                    }
                    Response::LoadFailed { dataset, variant, message } => {
                        next.weights.insert((dataset, variant), Weights::Failed(message));
                        next.invalidate(dataset, variant);
                    }
                    Response::Started { run, model } => {
                        let Some(t) = next.trace_of_run(run) else { return self };
                        t.model = Some(model);
                    }
                    Response::Stage { run, stage } => {
                        let Some(t) = next.trace_of_run(run) else { return self };
                        t.stages.push(Shared(Rc::new(stage)));
                    }
                    Response::Finished { run, forward_ms, mask } => {
                        let Some(t) = next.trace_of_run(run) else { return self };
                        let mask = Shared(Rc::new(mask));
                        t.mask = Some(mask.clone());
                        t.forward_ms = Some(forward_ms);
                        let model = t.model.clone();
                        let variant = next.traces.iter().find(|(_, t)| t.run == run).map(|(v, _)| *v);
                        if let (Some(variant), Some(model)) = (variant, model) {
                            next.masks.insert(variant, Segmentation { mask, model });
                            if variant == next.variant {
                                if let Some((start, what)) = next.clock.take() {
                                    next.latency = Some((what, crate::now_ms() - start));
                                }
                            }
                        }
                    }
                    Response::Segmented { run, variant, model, mask, .. } => {
                        next.segment_runs.remove(&run);
                        next.masks.insert(variant, Segmentation { mask: Shared(Rc::new(mask)), model });
                    }
                    Response::Crashed { message } => {
                        // Every question in flight gets this answer; availability() now
                        // refuses every variant, so nothing new is sent.
                        for t in next.traces.values_mut().filter(|t| t.running()) {
                            t.error = Some(ENGINE_STOPPED.into());
                        }
                        for (_, variant) in std::mem::take(&mut next.segment_runs) {
                            next.segment_errors.insert(variant, ENGINE_STOPPED.into());
                        }
                        for w in next.weights.values_mut().filter(|w| matches!(w, Weights::Loading | Weights::Fetching { .. })) {
                            *w = Weights::Failed(ENGINE_STOPPED.into());
                        }
                        next.clock = None;
                        // The first panic is the cause; later ones are its consequences.
                        next.engine_error.get_or_insert(message);
                    }
                    Response::Failed { run, message } => {
                        if let Some(variant) = next.segment_runs.remove(&run) {
                            next.segment_errors.insert(variant, message);
                        } else if let Some(t) = next.trace_of_run(run) {
                            t.error = Some(message);
                            next.clock = None;
                        } else {
                            return self;
                        }
                    }
                }
            }
            Action::Select(name) => {
                if name != next.selected {
                    next.selected = name;
                    next.channel = None;
                }
            }
            Action::Step(delta) => {
                let names = stage_names(self.depth());
                let i = names.iter().position(|n| *n == self.selected).unwrap_or(0) as i32;
                let j = (i + delta).clamp(0, names.len() as i32 - 1) as usize;
                if names[j] != next.selected {
                    next.selected = names[j].clone();
                    next.channel = None;
                }
            }
            Action::SelectChannel(c) => next.channel = c,
            Action::SetScale(s) => next.scale = s,
            Action::SetOpacity(o) => next.opacity = o.clamp(0.0, 1.0),
        }
        Rc::new(next)
    }
}

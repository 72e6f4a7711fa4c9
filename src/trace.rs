//! The worker's computation, kept free of the worker machinery so tests call it directly.
//!
//! [`Engine`] keeps one model per dataset and variant: the trained one once its weights are
//! loaded, else a randomly initialised one (seed [`RANDOM_SEED`], the dataset's classes and
//! its published architecture, [`fallback_architecture`]) built on first use. Each model
//! keeps its own [`Workspace`], so a warm segmentation allocates no activation buffer. A
//! trace answers with the mask of that plain forward pass first, then streams the stages
//! of a traced pass, a level per [`TraceJob::step`] (a worker yields between two).

use crate::protocol::{
    Dataset, DecoderPlanes, DecoderWeights, InputImage, MapShape, Mask, ModelSummary, Planes, Request, Response, StageData, TracePart, Variant,
};
use ndarray::{Array4, ArrayView4};
use skipscope_engine::catalog;
use skipscope_engine::layers::loss::argmax;
use skipscope_engine::model::{DecoderStage, Fusion, Stage, StageKind, TracedPass, Upsampler, Workspace};
use skipscope_engine::weights::{self, Normalization};
use skipscope_engine::{EngineError, Model, ModelConfig};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// The seed of the random fallback's weights.
pub const RANDOM_SEED: u64 = 1;

/// `(depth, width)` of the models published for `dataset`, which the random fallback
/// copies: CamVid's are width 10, CCP's width 8, both of depth 4 (an own model has no
/// fallback: what the page assumes before its file is read).
pub const fn fallback_architecture(dataset: Dataset) -> (usize, usize) {
    match dataset {
        Dataset::Camvid => (4, 10),
        Dataset::Ccp | Dataset::Own => (4, 8),
    }
}

struct Entry {
    /// Shared with the traces in progress, which keep the model they started with.
    model: Rc<Model<f32>>,
    summary: ModelSummary,
    normalization: Normalization,
    /// The buffers of this model's segmentations, warm after the first at a size.
    workspace: Workspace<f32>,
}

#[derive(Default)]
pub struct Engine {
    models: HashMap<(Dataset, Variant), Entry>,
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers one request through `respond`, as the protocol says, to its end. Never
    /// panics on bad input: engine errors become `LoadFailed` / `Failed`.
    pub fn handle(&mut self, request: Request, now_ms: &dyn Fn() -> f64, respond: &mut dyn FnMut(Response)) {
        if let Some(mut job) = self.begin(request, now_ms, respond) {
            while job.step(now_ms, respond) {}
        }
    }

    /// Answers `request` as [`Self::handle`] does, except a trace's stages: they are left
    /// to the job returned, a level per [`TraceJob::step`]. `Pause` and `Resume` are for the
    /// worker around the engine; here they do nothing.
    pub fn begin(&mut self, request: Request, now_ms: &dyn Fn() -> f64, respond: &mut dyn FnMut(Response)) -> Option<TraceJob> {
        match request {
            Request::Pause | Request::Resume => None,
            Request::Load { serial, dataset, variant, bytes } => {
                match self.load(dataset, variant, &bytes) {
                    Ok(model) => respond(Response::Loaded { serial, dataset, variant, model }),
                    Err(message) => respond(Response::LoadFailed { serial, dataset, variant, message }),
                }
                None
            }
            Request::Trace { serial, dataset, variant, image, part } => match self.trace(serial, (dataset, variant), &image, part, now_ms, respond) {
                Ok(job) => job,
                Err(e) => {
                    respond(Response::Failed { serial, variant, message: e.to_string() });
                    None
                }
            },
            Request::Segment { serial, dataset, variant, image } => {
                let t0 = now_ms();
                match self.segment(dataset, variant, &image) {
                    Ok((model, mask)) => respond(Response::Segmented { serial, variant, model, mask, ms: now_ms() - t0 }),
                    Err(e) => respond(Response::Failed { serial, variant, message: e.to_string() }),
                }
                None
            }
            Request::Ablate { serial, dataset, variant, image, off } => {
                let t0 = now_ms();
                match self.ablate(dataset, variant, &image, &off) {
                    Ok(mask) => respond(Response::Ablated { serial, variant, off, mask, ms: now_ms() - t0 }),
                    Err(e) => respond(Response::Failed { serial, variant, message: e.to_string() }),
                }
                None
            }
        }
    }

    /// The mask of `image` through `variant` of `dataset` with the skip off at the levels
    /// `off` marks (see `Model::infer_ablated`), cropped to the picture.
    pub fn ablate(&mut self, dataset: Dataset, variant: Variant, image: &InputImage, off: &[bool]) -> skipscope_engine::Result<Mask> {
        let entry = self.entry(dataset, variant)?;
        let x = normalise(image, &entry.normalization)?;
        let scores = entry.model.infer_ablated(x.view(), &mut entry.workspace, off)?;
        Ok(mask_of(scores, image.valid_height, image.valid_width))
    }

    /// Loads trained weights for `variant` of `dataset`; the file's config must be that
    /// variant, with the dataset's number of classes (any, within the page's limits, for an
    /// own model). A file refused leaves the model loaded before in place.
    pub fn load(&mut self, dataset: Dataset, variant: Variant, bytes: &[u8]) -> Result<ModelSummary, String> {
        let (mut model, meta) = weights::load(bytes).map_err(|e| format!("bad weights file for {variant}: {e}"))?;
        catalog::check_suits(dataset, variant, &meta).map_err(|e| e.to_string())?;
        let c = meta.config;
        let parameters = model.parameter_count();
        model.fold_batch_norm();
        let working_size = catalog::recipe_size(&meta).unwrap_or(dataset.working_size());
        let scores = catalog::scores_line(&meta);
        let summary = ModelSummary { dataset, variant, depth: c.depth, width: c.width, parameters, trained: true, classes: meta.classes, working_size, scores };
        let entry = Entry { model: Rc::new(model), summary: summary.clone(), normalization: meta.normalization, workspace: Workspace::new() };
        self.models.insert((dataset, variant), entry);
        Ok(summary)
    }

    /// The model of `variant` of `dataset`, building the random fallback on first use.
    fn entry(&mut self, dataset: Dataset, variant: Variant) -> skipscope_engine::Result<&mut Entry> {
        use std::collections::hash_map::Entry as Slot;
        let slot = match self.models.entry((dataset, variant)) {
            Slot::Occupied(o) => return Ok(o.into_mut()),
            Slot::Vacant(v) => v,
        };
        let classes = dataset.classes();
        let (depth, width) = fallback_architecture(dataset);
        let config = ModelConfig { in_channels: 3, n_classes: classes.len(), depth, width, upsample: variant.upsample, skip: variant.skip };
        let mut model = Model::<f32>::new(config, RANDOM_SEED)?;
        let parameters = model.parameter_count();
        model.fold_batch_norm();
        let summary = ModelSummary { dataset, variant, depth, width, parameters, trained: false, classes, working_size: dataset.working_size(), scores: None };
        Ok(slot.insert(Entry { model: Rc::new(model), summary, normalization: Normalization::imagenet(), workspace: Workspace::new() }))
    }

    /// Answers a trace of `image` through `model` (dataset, variant), or the part asked:
    /// `Started`, the mask, and the job that computes the stages, if asked.
    fn trace(
        &mut self,
        serial: u32,
        (dataset, variant): (Dataset, Variant),
        image: &InputImage,
        part: TracePart,
        now_ms: &dyn Fn() -> f64,
        respond: &mut dyn FnMut(Response),
    ) -> skipscope_engine::Result<Option<TraceJob>> {
        let entry = self.entry(dataset, variant)?;
        let x = normalise(image, &entry.normalization)?;
        entry.model.config.check_input([1, image.height, image.width, 3])?;
        respond(Response::Started { serial, variant, model: entry.summary.clone() });
        let valid = (image.valid_height, image.valid_width);
        // The mask first, through the plain forward pass in the kept workspace (no buffer
        // allocated when warm): what the user waits for. The traced pass follows.
        if part != TracePart::Stages {
            let t0 = now_ms();
            let scores = entry.model.infer(x.view(), &mut entry.workspace)?;
            let first = mask_of(scores, valid.0, valid.1);
            respond(Response::Mask { serial, variant, mask: first, ms: now_ms() - t0 });
        }
        if part == TracePart::Mask {
            return Ok(None);
        }
        let pass = TracedPass::new(&entry.model, x)?;
        let start = now_ms();
        Ok(Some(TraceJob { serial, variant, model: entry.model.clone(), pass, valid, start, unposted: VecDeque::new(), mask: None }))
    }

    /// The mask of `image` through `variant` of `dataset`, cropped to the picture, computed
    /// in the model's own workspace.
    pub fn segment(&mut self, dataset: Dataset, variant: Variant, image: &InputImage) -> skipscope_engine::Result<(ModelSummary, Mask)> {
        let entry = self.entry(dataset, variant)?;
        let x = normalise(image, &entry.normalization)?;
        let scores = entry.model.infer(x.view(), &mut entry.workspace)?;
        Ok((entry.summary.clone(), mask_of(scores, image.valid_height, image.valid_width)))
    }

    /// How many buffers the workspace of `variant` of `dataset` has allocated (none before
    /// its model exists).
    pub fn workspace_allocations(&self, dataset: Dataset, variant: Variant) -> usize {
        self.models.get(&(dataset, variant)).map_or(0, |e| e.workspace.allocations())
    }
}

/// The stages of a trace still to compute, a level per [`Self::step`], through the model
/// the trace started with (a load of the same variant meanwhile does not change them).
pub struct TraceJob {
    serial: u32,
    variant: Variant,
    model: Rc<Model<f32>>,
    pass: TracedPass<f32>,
    /// The picture's part of the input, `(height, width)`.
    valid: (usize, usize),
    start: f64,
    /// Stages computed and not answered yet, each with the ms its computation took.
    unposted: VecDeque<(Stage<f32>, f64)>,
    /// The head's mask, once computed.
    mask: Option<Mask>,
}

impl TraceJob {
    /// Answers the next stage, computing the next part of the pass first where none is
    /// waiting (so a step is one part's computation, or one stage's copy and post, at
    /// most both); decoder stages go with their level's small weights, and `Finished`
    /// after the head. False once there is nothing left (finished, or failed: then
    /// `Failed` is the answer).
    pub fn step(&mut self, now_ms: &dyn Fn() -> f64, respond: &mut dyn FnMut(Response)) -> bool {
        let (serial, variant) = (self.serial, self.variant);
        if self.unposted.is_empty() && !self.pass.is_done() {
            let t0 = now_ms();
            let stages = match self.pass.step(&self.model) {
                Ok(stages) => stages,
                Err(e) => {
                    respond(Response::Failed { serial, variant, message: e.to_string() });
                    return false;
                }
            };
            // The part's time goes with its last stage (the input before `enc.0` is a copy).
            let (n, ms) = (stages.len(), now_ms() - t0);
            self.unposted.extend(stages.into_iter().enumerate().map(|(i, stage)| (stage, if i + 1 == n { ms } else { 0.0 })));
        }
        if let Some((stage, ms)) = self.unposted.pop_front() {
            let t0 = now_ms();
            let (vh, vw) = self.valid;
            if stage.kind == StageKind::Head {
                self.mask = Some(mask_of(stage.data.view(), vh, vw));
            }
            let mut data = stage_data(&stage, vh, vw, ms);
            if let (Some(parts), Some(level)) = (data.parts.as_mut(), self.model.decoder.get(stage.level).filter(|_| stage.kind == StageKind::Decoder)) {
                *parts.weights = decoder_weights(level);
            }
            data.ms += now_ms() - t0;
            respond(Response::Stage { serial, variant, stage: data });
        }
        if !self.unposted.is_empty() || !self.pass.is_done() {
            return true;
        }
        match self.mask.take() {
            Some(mask) => respond(Response::Finished { serial, variant, forward_ms: now_ms() - self.start, mask }),
            None => respond(Response::Failed { serial, variant, message: "the trace had no head stage".into() }),
        }
        false
    }
}

/// The size of the warm-up picture ([`warm_up`]): a thirty-second of the CamVid working
/// area, enough for V8 to optimise the kernels (its budget counts loop iterations).
pub const WARM_UP_SIZE: (usize, usize) = (32, 48);

/// Runs the code of a mask on a small picture through a throw-away zero-weights model of
/// the published architecture (CamVid's transposed-concat, the page's first model), so that
/// the browser compiles the engine's hot functions to optimised code (V8 starts every wasm
/// function in its baseline compiler and optimises it once it has run a while, in the
/// background) before the first real request. In steps ([`WarmUp::step`]), so that a
/// worker can take a request between two steps, and stop it once a request runs a model.
/// Touches nothing an [`Engine`] keeps: every answer stays the same (tested).
#[derive(Default)]
pub struct WarmUp {
    done: usize,
    run: Option<(Model<f32>, Workspace<f32>, Array4<f32>)>,
    /// The last pass's mask (for the tests).
    pub mask: Option<Mask>,
}

/// Passes of the warm-up's model.
const WARM_UP_PASSES: usize = 2;

impl WarmUp {
    /// Does the next step (building the model, then one pass each); false once there is
    /// nothing left to do.
    pub fn step(&mut self) -> bool {
        match &mut self.run {
            None if self.done == 0 => {
                self.done = 1;
                self.run = Self::build();
                self.run.is_some()
            }
            Some((model, workspace, x)) if self.done <= WARM_UP_PASSES => {
                let (h, w) = WARM_UP_SIZE;
                self.mask = model.infer(x.view(), workspace).ok().map(|s| mask_of(s, h, w));
                self.done += 1;
                if self.done > WARM_UP_PASSES {
                    self.run = None;
                }
                self.run.is_some()
            }
            _ => false,
        }
    }

    fn build() -> Option<(Model<f32>, Workspace<f32>, Array4<f32>)> {
        let (depth, width) = fallback_architecture(Dataset::Camvid);
        let config = ModelConfig {
            in_channels: 3,
            n_classes: Dataset::Camvid.classes().len(),
            depth,
            width,
            upsample: skipscope_engine::Upsample::Transposed,
            skip: skipscope_engine::Skip::Concat,
        };
        // Zero weights: the same code runs as for trained ones, without the random draws
        // (slow in a cold module) that building a random model takes.
        let mut model = Model::<f32>::zeroed(config).ok()?;
        model.fold_batch_norm();
        let (h, w) = WARM_UP_SIZE;
        let rgb = (0..h * w * 3).map(|i| (i * 7 % 251) as u8).collect();
        let image = InputImage { height: h, width: w, valid_height: h, valid_width: w, rgb };
        let x = normalise(&image, &Normalization::imagenet()).ok()?;
        Some((model, Workspace::new(), x))
    }
}

/// The whole warm-up at once; its last mask.
pub fn warm_up() -> Option<Mask> {
    let mut warm = WarmUp::default();
    while warm.step() {}
    warm.mask
}

/// `[1, H, W, 3]` with `(pixel / 255 - mean) / std`; checks the byte count and the valid box.
pub fn normalise(image: &InputImage, n: &Normalization) -> skipscope_engine::Result<Array4<f32>> {
    let InputImage { height, width, valid_height, valid_width, ref rgb } = *image;
    if rgb.len() != height * width * 3 {
        return Err(EngineError::Shape { what: "image bytes".into(), expected: vec![height * width * 3], got: vec![rgb.len()] });
    }
    if valid_height == 0 || valid_width == 0 || valid_height > height || valid_width > width {
        return Err(EngineError::Config(format!("picture {valid_height}x{valid_width} does not fit the {height}x{width} input")));
    }
    let values = rgb.iter().enumerate().map(|(i, &v)| (v as f32 / 255.0 - n.mean[i % 3]) / n.std[i % 3]).collect();
    Array4::from_shape_vec([1, height, width, 3], values).map_err(|e| EngineError::Config(e.to_string()))
}

/// Class per pixel of `scores` `[1, H, W, K]`, cropped to the top-left `vh x vw`.
pub fn mask_of(scores: ArrayView4<f32>, vh: usize, vw: usize) -> Mask {
    let classes = argmax(scores);
    let (_, h, w) = classes.dim();
    let (vh, vw) = (vh.min(h), vw.min(w));
    let cropped = classes.slice(ndarray::s![0, ..vh, ..vw]).iter().copied().collect();
    Mask { height: vh, width: vw, classes: cropped }
}

/// The picture's share of a side at `level`: `ceil(valid / 2^level)`, at most `full`.
fn crop_side(valid: usize, level: usize, full: usize) -> usize {
    valid.div_ceil(1 << level).clamp(1, full)
}

/// `[1, H, W, C]` -> channel-major planes cropped to the picture at `level`.
pub fn planes(a: ArrayView4<f32>, level: usize, vh: usize, vw: usize) -> Planes {
    let (_, h, w, c) = a.dim();
    let (ch, cw) = (crop_side(vh, level, h), crop_side(vw, level, w));
    let plane = ch * cw;
    let mut values = vec![0.0; c * plane];
    for y in 0..ch {
        // One row of the map (`W x C`, in cache), written as one row of every plane.
        let row = a.slice(ndarray::s![0, y, ..cw, ..]);
        for (k, column) in row.axis_iter(ndarray::Axis(1)).enumerate() {
            let out = &mut values[k * plane + y * cw..][..cw];
            for (o, &v) in out.iter_mut().zip(column.iter()) {
                *o = v;
            }
        }
    }
    Planes { shape: MapShape { channels: c, height: ch, width: cw }, values }
}

fn stage_data(stage: &Stage<f32>, vh: usize, vw: usize, ms: f64) -> StageData {
    let level = stage.level;
    let planes = planes(stage.data.view(), level, vh, vw);
    let argmax = stage.indices.as_ref().map(|idx| {
        // Indices are `y * W_in + x` in the input plane of the pool (twice the size).
        let (_, _, w, c) = idx.dim();
        let w_in = 2 * w;
        let MapShape { height: ch, width: cw, .. } = planes.shape;
        let mut out = Vec::with_capacity(c * ch * cw);
        for k in 0..c {
            for y in 0..ch {
                for x in 0..cw {
                    let i = idx[[0, y, x, k]] as usize;
                    let (iy, ix) = (i / w_in, i % w_in);
                    out.push((2 * (iy % 2) + ix % 2) as u8);
                }
            }
        }
        out
    });
    let parts = stage.parts.as_ref().map(|p| DecoderPlanes {
        upsampled: planes_at(&p.upsampled, level, vh, vw),
        skip: p.skip.as_ref().map(|s| planes_at(s, level, vh, vw)),
        fused: planes_at(&p.fused, level, vh, vw),
        weights: Box::default(),
    });
    StageData { name: stage.name.clone(), kind: stage.kind, level, planes, argmax, parts, ms }
}

/// The level's upsampler and projection weights as run (batch norm never touches them).
fn decoder_weights(level: &DecoderStage<f32>) -> DecoderWeights {
    let flat = |a: &ndarray::ArrayD<f32>| a.iter().copied().collect::<Vec<f32>>();
    let (up_weight, up_bias) = match &level.up {
        Upsampler::Transposed(t) => (Some(flat(&t.weight.value)), Some(flat(&t.bias.value))),
        Upsampler::Unpool | Upsampler::Bilinear => (None, None),
    };
    let (proj_weight, proj_bias) = match &level.fusion {
        Fusion::Add(p) => (Some(flat(&p.weight.value)), Some(flat(&p.bias.value))),
        Fusion::None | Fusion::Concat => (None, None),
    };
    DecoderWeights { up_weight, up_bias, proj_weight, proj_bias }
}

fn planes_at(a: &Array4<f32>, level: usize, vh: usize, vw: usize) -> Planes {
    planes(a.view(), level, vh, vw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skipscope_engine::{Skip, Upsample};

    /// A 64 x 96 picture of which the top-left 60 x 90 is the photo.
    fn image() -> InputImage {
        let (h, w) = (64, 96);
        let rgb = (0..h * w * 3).map(|i| (i * 7 % 251) as u8).collect();
        InputImage { height: h, width: w, valid_height: 60, valid_width: 90, rgb }
    }

    #[test]
    fn planes_are_the_channels_of_the_cropped_map_in_order() {
        // A level-1 map of 5 x 7 x 3 with the picture covering 9 x 11 at level 0: 5 x 6 kept.
        let a = ndarray::Array4::from_shape_fn((1, 5, 7, 3), |(_, y, x, k)| (100 * k + 10 * y + x) as f32);
        let p = planes(a.view(), 1, 9, 11);
        assert_eq!((p.shape.channels, p.shape.height, p.shape.width), (3, 5, 6));
        let expected: Vec<f32> = (0..3).flat_map(|k| (0..5).flat_map(move |y| (0..6).map(move |x| (100 * k + 10 * y + x) as f32))).collect();
        assert_eq!(p.values, expected);
    }

    #[test]
    fn a_second_segmentation_at_the_same_size_takes_no_new_buffer() {
        let mut engine = Engine::new();
        for (dataset, variant) in
            [(Dataset::Camvid, Variant::new(Upsample::Unpool, Skip::Concat)), (Dataset::Ccp, Variant::new(Upsample::Transposed, Skip::Add))]
        {
            let segment = |engine: &mut Engine, serial| {
                let mut out = Vec::new();
                engine.handle(Request::Segment { serial, dataset, variant, image: image() }, &|| 0.0, &mut |r| out.push(r));
                match out.as_slice() {
                    [Response::Segmented { serial: s, mask, .. }] if *s == serial => mask.clone(),
                    other => panic!("{other:?}"),
                }
            };
            let first = segment(&mut engine, 1);
            let warm = engine.workspace_allocations(dataset, variant);
            assert!(warm > 0, "the first segmentation fills the workspace");
            let second = segment(&mut engine, 2);
            assert_eq!(engine.workspace_allocations(dataset, variant), warm, "{variant}: the warm run reuses every buffer");
            assert_eq!(first, second);
        }
    }

    #[test]
    fn a_trace_begun_answers_a_level_per_step_what_handle_answers_at_once() {
        let variant = Variant::new(Upsample::Bilinear, Skip::Add);
        let request = || Request::Trace { serial: 5, dataset: Dataset::Camvid, variant, image: image(), part: TracePart::Whole };
        let mut whole = Vec::new();
        Engine::new().handle(request(), &|| 0.0, &mut |r| whole.push(r));
        let mut engine = Engine::new();
        let mut stepped = Vec::new();
        let mut job = engine.begin(request(), &|| 0.0, &mut |r| stepped.push(r)).expect("a whole trace leaves its stages to a job");
        assert!(matches!(stepped.as_slice(), [Response::Started { .. }, Response::Mask { .. }]), "begun: {stepped:?}");
        // A stage a step; the last step also answers `Finished`.
        loop {
            let before = stepped.len();
            let more = job.step(&|| 0.0, &mut |r| stepped.push(r));
            let stages = stepped[before..].iter().filter(|r| matches!(r, Response::Stage { .. })).count();
            assert_eq!((stages, stepped.len() - before), (1, if more { 1 } else { 2 }), "{:?}", &stepped[before..]);
            if !more {
                break;
            }
        }
        assert_eq!(stepped, whole);
        assert!(engine.begin(Request::Pause, &|| 0.0, &mut |r| panic!("{r:?}")).is_none(), "a pause is the worker's");
    }

    #[test]
    fn a_traces_two_parts_answer_what_the_whole_does() {
        let mut engine = Engine::new();
        let variant = Variant::new(Upsample::Transposed, Skip::Concat);
        let mut run = |part| {
            let mut out = Vec::new();
            engine.handle(Request::Trace { serial: 3, dataset: Dataset::Camvid, variant, image: image(), part }, &|| 0.0, &mut |r| out.push(r));
            out
        };
        let (whole, mask, stages) = (run(TracePart::Whole), run(TracePart::Mask), run(TracePart::Stages));
        assert!(matches!(mask.as_slice(), [Response::Started { .. }, Response::Mask { .. }]), "{mask:?}");
        assert!(!stages.iter().any(|r| matches!(r, Response::Mask { .. })));
        assert!(matches!(stages.last(), Some(Response::Finished { .. })));
        // The same answers, but for the times measured.
        let untimed = |r: &Response| match r.clone() {
            Response::Mask { serial, variant, mask, .. } => Response::Mask { serial, variant, mask, ms: 0.0 },
            Response::Stage { serial, variant, stage } => Response::Stage { serial, variant, stage: StageData { ms: 0.0, ..stage } },
            Response::Finished { serial, variant, mask, .. } => Response::Finished { serial, variant, mask, forward_ms: 0.0 },
            other => other,
        };
        let halves: Vec<Response> = mask.iter().chain(&stages[1..]).map(untimed).collect();
        assert_eq!(halves, whole.iter().map(untimed).collect::<Vec<_>>());
    }

    #[test]
    fn the_warm_up_changes_no_answer() {
        let variant = Variant::new(Upsample::Transposed, Skip::Concat);
        let run = || {
            let mut engine = Engine::new();
            let mut out = Vec::new();
            engine
                .handle(Request::Trace { serial: 1, dataset: Dataset::Camvid, variant, image: image(), part: TracePart::Whole }, &|| 0.0, &mut |r| out.push(r));
            engine.handle(Request::Segment { serial: 2, dataset: Dataset::Ccp, variant, image: image() }, &|| 0.0, &mut |r| out.push(r));
            out.into_iter()
                .map(|r| match r {
                    Response::Mask { serial, variant, mask, .. } => Response::Mask { serial, variant, mask, ms: 0.0 },
                    Response::Stage { serial, variant, stage } => Response::Stage { serial, variant, stage: StageData { ms: 0.0, ..stage } },
                    Response::Finished { serial, variant, mask, .. } => Response::Finished { serial, variant, mask, forward_ms: 0.0 },
                    Response::Segmented { serial, variant, model, mask, .. } => Response::Segmented { serial, variant, model, mask, ms: 0.0 },
                    other => other,
                })
                .collect::<Vec<_>>()
        };
        let cold = run();
        let mask = warm_up().expect("the warm-up runs");
        assert_eq!((mask.height, mask.width), WARM_UP_SIZE);
        assert_eq!(run(), cold);
    }

    #[test]
    fn the_random_fallback_has_the_published_architecture() {
        // Every model the page publishes has its dataset's fallback depth and width.
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/models");
        let manifest = crate::manifest::parse(&std::fs::read(models.join("manifest.json")).unwrap()).unwrap();
        for e in &manifest.models {
            let (_, meta) = weights::load(&std::fs::read(models.join(&e.file)).unwrap()).unwrap();
            let dataset: Dataset = e.dataset;
            assert_eq!((meta.config.depth, meta.config.width), fallback_architecture(dataset), "{}", e.id);
        }
        let mut engine = Engine::new();
        for (dataset, width) in [(Dataset::Camvid, 10), (Dataset::Ccp, 8)] {
            let (model, mask) = engine.segment(dataset, Variant::new(Upsample::Bilinear, Skip::None), &image()).unwrap();
            assert!(!model.trained);
            assert_eq!((model.depth, model.width, model.classes.len()), (4, width, dataset.classes().len()));
            assert_eq!((mask.height, mask.width), (60, 90));
        }
    }
}

//! What inference reports stage by stage, for the page: [`Stage`], [`StageKind`] and a
//! decoder stage's [`DecoderParts`], and the traced forward passes.

use super::blocks::BlockInput;
use super::{shape4, stage_names, Model, Workspace};
use crate::error::Result;
use crate::layers::{loss, max_pool};
use crate::Scalar;
use ndarray::{Array4, ArrayView4};
use serde::{Deserialize, Serialize};

/// The intermediate maps of one decoder stage, for the trace.
#[derive(Clone, Debug)]
pub struct DecoderParts<T> {
    /// The deep map after x2 upsampling, `[1, H, W, C_k]`.
    pub upsampled: Array4<T>,
    /// What the skip contributes: the projected encoder map (add), the encoder map itself
    /// (concat), or nothing (none).
    pub skip: Option<Array4<T>>,
    /// The input of the block: upsampled + skip (add), `[upsampled | skip]` (concat), or
    /// the upsampled map alone (none).
    pub fused: Array4<T>,
}

/// What a stage is, in the order of [`super::stage_names`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Input,
    Encoder,
    Pool,
    Bottleneck,
    Decoder,
    Head,
}

/// One stage's output, as [`Model::forward_traced`] reports it.
#[derive(Clone, Debug)]
pub struct Stage<T> {
    /// `input`, `enc.k`, `pool.k`, `bottleneck`, `dec.k`, `head`, from [`stage_names`]; the
    /// same in every variant.
    pub name: String,
    pub kind: StageKind,
    /// Resolution level: the map is `H / 2^level` by `W / 2^level`.
    pub level: usize,
    /// The stage's output `[1, H, W, C]`; for `head`, class probabilities.
    pub data: Array4<T>,
    /// For pool stages: the argmax positions, encoded as in [`max_pool`].
    pub indices: Option<Array4<u32>>,
    /// For decoder stages: the upsampled map, the skip term and the fused map.
    pub parts: Option<DecoderParts<T>>,
}

impl<T: Scalar> Model<T> {
    /// Inference on one image that reports every stage, in order, to `on_stage` as soon
    /// as it is computed; the `head` stage holds class probabilities.
    ///
    /// # Shapes
    /// - x: `[1, H, W, in_channels]`, `H` and `W` multiples of `2^depth`
    /// - each stage's `data`: `[1, H / 2^level, W / 2^level, C]`
    pub fn forward_traced_with(&self, x: ArrayView4<T>, on_stage: &mut dyn FnMut(Stage<T>)) -> Result<()> {
        let mut pass = TracedPass::new(self, x.to_owned())?;
        while !pass.is_done() {
            pass.step(self)?.into_iter().for_each(&mut *on_stage);
        }
        Ok(())
    }

    /// Every stage of one inference, in order (see [`Self::forward_traced_with`]).
    ///
    /// # Shapes
    /// - x: `[1, H, W, in_channels]`
    /// - returns: one stage per name of [`super::stage_names`]
    pub fn forward_traced(&self, x: ArrayView4<T>) -> Result<Vec<Stage<T>>> {
        let mut stages = Vec::new();
        self.forward_traced_with(x, &mut |s| stages.push(s))?;
        Ok(stages)
    }

    /// The inference pass of [`Self::infer`]: every part of [`Self::run_level`] in one
    /// call. `ablated[k]` true switches the skip of decoder level `k` off (see
    /// [`Model::infer_ablated`]); missing entries are false.
    ///
    /// # Shapes
    /// - x: `[N, H, W, in_channels]`
    /// - ablated: at most `depth` entries
    /// - returns: `[N, H, W, n_classes]`
    pub(super) fn run_eval(&self, x: ArrayView4<T>, ws: &mut Workspace<T>, ablated: &[bool]) -> Result<Array4<T>> {
        self.config.check_input(crate::layers::dims(&x))?;
        if ablated.len() > self.config.depth {
            return Err(crate::EngineError::Config(format!("{} ablation flags for a model of depth {}", ablated.len(), self.config.depth)));
        }
        let mut pass = Pass::start(ws);
        loop {
            if let Some(scores) = self.run_level(x, ws, &mut pass, None, ablated)? {
                return Ok(scores);
            }
        }
    }

    /// Runs the part `pass.next` (an encoder level's block, its pooling, the bottleneck, a
    /// decoder level, or the head) and moves `pass` on. With `on_stage`, reports (a copy
    /// of) the level's stages, unnamed. Returns the scores once the head has run.
    fn run_level(
        &self,
        x: ArrayView4<T>,
        ws: &mut Workspace<T>,
        pass: &mut Pass<T>,
        mut on_stage: Option<&mut dyn FnMut(Stage<T>)>,
        ablated: &[bool],
    ) -> Result<Option<Array4<T>>> {
        let depth = self.config.depth;
        let plain =
            |kind: StageKind, level: usize, data: ArrayView4<T>| Stage { name: String::new(), kind, level, data: data.to_owned(), indices: None, parts: None };
        match pass.next {
            Next::Encoder(k) => {
                let e = self.encoder[k].forward_eval(BlockInput::One(pass.below.as_ref().map_or(x.view(), |b| b.view())), ws);
                emit(&mut on_stage, || plain(StageKind::Encoder, k, e.view()));
                pass.skips.push(e);
                pass.next = Next::Pool(k);
            }
            Next::Pool(k) => {
                let e = pass.skips.last().ok_or_else(|| crate::EngineError::Config("a pooling without its map".into()))?;
                let pooled_shape = max_pool::output_shape(shape4(e))?;
                let mut pooled = ws.pool.take(pooled_shape);
                let mut idx = ws.pool.take_indices(pooled_shape);
                max_pool::forward_into(e.view(), pooled.view_mut(), idx.view_mut());
                emit(&mut on_stage, || Stage { indices: Some(idx.clone()), ..plain(StageKind::Pool, k + 1, pooled.view()) });
                pass.indices.push(idx);
                if let Some(old) = pass.below.replace(pooled) {
                    ws.pool.give(old);
                }
                pass.next = if k + 1 < depth { Next::Encoder(k + 1) } else { Next::Bottleneck };
            }
            Next::Bottleneck => {
                let h = self.bottleneck.forward_eval(BlockInput::One(pass.below.as_ref().map_or(x.view(), |b| b.view())), ws);
                if let Some(old) = pass.below.take() {
                    ws.pool.give(old);
                }
                emit(&mut on_stage, || plain(StageKind::Bottleneck, depth, h.view()));
                pass.h = Some(h);
                pass.next = depth.checked_sub(1).map_or(Next::Head, Next::Decoder);
            }
            Next::Decoder(k) => {
                let (Some(h), Some(skip), Some(idx)) = (pass.h.take(), pass.skips.pop(), pass.indices.pop()) else {
                    return Err(crate::EngineError::Config("a decoder level without its maps".into()));
                };
                let off = ablated.get(k).copied().unwrap_or(false);
                let (y, parts) = self.decoder[k].forward_eval(h, skip, idx, ws, on_stage.is_some(), off);
                emit(&mut on_stage, || Stage { parts, ..plain(StageKind::Decoder, k, y.view()) });
                pass.h = Some(y);
                pass.next = k.checked_sub(1).map_or(Next::Head, Next::Decoder);
            }
            Next::Head => {
                let h = pass.h.take().ok_or_else(|| crate::EngineError::Config("the head without its input".into()))?;
                let [n, height, width, _] = crate::layers::dims(&x);
                let mut scores = ws.pool.take([n, height, width, self.config.n_classes]);
                self.head.forward_into(h.view(), scores.view_mut(), &mut ws.scratch);
                ws.pool.give(h);
                (ws.skips, ws.indices) = (std::mem::take(&mut pass.skips), std::mem::take(&mut pass.indices));
                pass.next = Next::Done;
                return Ok(Some(scores));
            }
            Next::Done => return Err(crate::EngineError::Config("the pass is done".into())),
        }
        Ok(None)
    }
}

/// The part of an inference pass it runs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Encoder(usize),
    /// The pooling after encoder level `k`.
    Pool(usize),
    Bottleneck,
    /// Decoder levels run from the deepest, `depth - 1`, to 0.
    Decoder(usize),
    Head,
    Done,
}

/// An inference pass between two levels: the maps it still needs.
struct Pass<T> {
    next: Next,
    /// The pooled map below the current encoder level (none: the input).
    below: Option<Array4<T>>,
    /// The decoder's map, from the bottleneck on.
    h: Option<Array4<T>>,
    /// Each encoder level's map before pooling, and its pooling's argmax, shallowest first.
    skips: Vec<Array4<T>>,
    indices: Vec<Array4<u32>>,
}

impl<T> Pass<T> {
    /// A pass at its first level, with the workspace's lists (their capacity kept).
    fn start(ws: &mut Workspace<T>) -> Self {
        Self { next: Next::Encoder(0), below: None, h: None, skips: std::mem::take(&mut ws.skips), indices: std::mem::take(&mut ws.indices) }
    }
}

/// A traced pass of one image, run a part per call ([`Self::step`]: an encoder level's
/// block, its pooling, the bottleneck, a decoder level, the head): for a caller that must
/// yield between parts (the page's trace worker steps aside while a mask the user
/// waits for is computed). It owns its input and buffers; it is given the model at each
/// step, which must be the one it started with.
pub struct TracedPass<T> {
    x: Array4<T>,
    ws: Workspace<T>,
    pass: Pass<T>,
    names: std::vec::IntoIter<String>,
    config: super::ModelConfig,
    started: bool,
}

impl<T: Scalar> TracedPass<T> {
    /// A traced pass of `x` through `model`.
    ///
    /// # Shapes
    /// - x: `[1, H, W, in_channels]`, `H` and `W` multiples of `2^depth`
    pub fn new(model: &Model<T>, x: Array4<T>) -> Result<Self> {
        model.config.check_input(crate::layers::dims(&x.view()))?;
        let mut ws = Workspace::new();
        let pass = Pass::start(&mut ws);
        Ok(Self { x, ws, pass, names: stage_names(model.config.depth).into_iter(), config: model.config, started: false })
    }

    /// Whether every stage has been returned.
    pub fn is_done(&self) -> bool {
        self.pass.next == Next::Done
    }

    /// Runs `model`'s next part and returns its stage, named: the first call the input and
    /// `enc.0`, the last the head's class probabilities. An error once done, or for a model of another configuration.
    pub fn step(&mut self, model: &Model<T>) -> Result<Vec<Stage<T>>> {
        if model.config != self.config {
            return Err(crate::EngineError::Config("a traced pass stepped with another model".into()));
        }
        let mut stages = Vec::new();
        if !self.started {
            self.started = true;
            stages.push(Stage { name: String::new(), kind: StageKind::Input, level: 0, data: self.x.clone(), indices: None, parts: None });
        }
        let scores = model.run_level(self.x.view(), &mut self.ws, &mut self.pass, Some(&mut |s| stages.push(s)), &[])?;
        if let Some(mut scores) = scores {
            loss::softmax_inplace(scores.view_mut());
            stages.push(Stage { name: String::new(), kind: StageKind::Head, level: 0, data: scores, indices: None, parts: None });
        }
        for stage in &mut stages {
            stage.name = self.names.next().unwrap_or_default();
        }
        Ok(stages)
    }
}

/// Reports a stage, built only when someone listens.
fn emit<T>(on_stage: &mut Option<&mut dyn FnMut(Stage<T>)>, stage: impl FnOnce() -> Stage<T>) {
    if let Some(f) = on_stage.as_deref_mut() {
        f(stage());
    }
}

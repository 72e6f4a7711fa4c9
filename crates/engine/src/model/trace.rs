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
        // Stages come in the order of `stage_names`, which names them.
        let mut names = stage_names(self.config.depth).into_iter();
        let mut named = |mut stage: Stage<T>| {
            if let Some(name) = names.next() {
                stage.name = name;
            }
            on_stage(stage)
        };
        let mut ws = Workspace::new();
        let mut scores = self.run_eval(x, &mut ws, Some(&mut named), &[])?;
        loss::softmax_inplace(scores.view_mut());
        named(Stage { name: String::new(), kind: StageKind::Head, level: 0, data: scores, indices: None, parts: None });
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

    /// The inference pass shared by [`Self::infer`] and the traces. With `on_stage`, reports
    /// (a copy of) every stage but the head, unnamed; returns the scores. `ablated[k]` true
    /// switches the skip of decoder level `k` off (see [`Model::infer_ablated`]); missing
    /// entries are false.
    ///
    /// # Shapes
    /// - x: `[N, H, W, in_channels]`
    /// - ablated: at most `depth` entries
    /// - returns: `[N, H, W, n_classes]`
    pub(super) fn run_eval(
        &self,
        x: ArrayView4<T>,
        ws: &mut Workspace<T>,
        mut on_stage: Option<&mut dyn FnMut(Stage<T>)>,
        ablated: &[bool],
    ) -> Result<Array4<T>> {
        let shape = crate::layers::dims(&x);
        self.config.check_input(shape)?;
        if ablated.len() > self.config.depth {
            return Err(crate::EngineError::Config(format!("{} ablation flags for a model of depth {}", ablated.len(), self.config.depth)));
        }
        let depth = self.config.depth;
        let plain =
            |kind: StageKind, level: usize, data: ArrayView4<T>| Stage { name: String::new(), kind, level, data: data.to_owned(), indices: None, parts: None };
        emit(&mut on_stage, || plain(StageKind::Input, 0, x.view()));
        let mut skips = std::mem::take(&mut ws.skips);
        let mut indices = std::mem::take(&mut ws.indices);
        // The map below the current level: the input, then each pooled map.
        let mut below: Option<Array4<T>> = None;
        for (k, block) in self.encoder.iter().enumerate() {
            let e = block.forward_eval(BlockInput::One(below.as_ref().map_or(x.view(), |b| b.view())), ws);
            emit(&mut on_stage, || plain(StageKind::Encoder, k, e.view()));
            let pooled_shape = max_pool::output_shape(shape4(&e))?;
            let mut pooled = ws.pool.take(pooled_shape);
            let mut idx = ws.pool.take_indices(pooled_shape);
            max_pool::forward_into(e.view(), pooled.view_mut(), idx.view_mut());
            emit(&mut on_stage, || Stage { indices: Some(idx.clone()), ..plain(StageKind::Pool, k + 1, pooled.view()) });
            skips.push(e);
            indices.push(idx);
            if let Some(old) = below.replace(pooled) {
                ws.pool.give(old);
            }
        }
        let mut h = self.bottleneck.forward_eval(BlockInput::One(below.as_ref().map_or(x.view(), |b| b.view())), ws);
        if let Some(old) = below {
            ws.pool.give(old);
        }
        emit(&mut on_stage, || plain(StageKind::Bottleneck, depth, h.view()));
        let levels = skips.drain(..).zip(indices.drain(..));
        for ((k, stage), (skip, idx)) in self.decoder.iter().enumerate().zip(levels).rev() {
            let off = ablated.get(k).copied().unwrap_or(false);
            let (y, parts) = stage.forward_eval(h, skip, idx, ws, on_stage.is_some(), off);
            h = y;
            emit(&mut on_stage, || Stage { parts, ..plain(StageKind::Decoder, k, h.view()) });
        }
        let mut scores = ws.pool.take([shape[0], shape[1], shape[2], self.config.n_classes]);
        self.head.forward_into(h.view(), scores.view_mut(), &mut ws.scratch);
        ws.pool.give(h);
        (ws.skips, ws.indices) = (skips, indices);
        Ok(scores)
    }
}

/// Reports a stage, built only when someone listens.
fn emit<T>(on_stage: &mut Option<&mut dyn FnMut(Stage<T>)>, stage: impl FnOnce() -> Stage<T>) {
    if let Some(f) = on_stage.as_deref_mut() {
        f(stage());
    }
}

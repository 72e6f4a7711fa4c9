use super::heatmap::{Heatmap, Part};
use super::{ChannelZoom, HeatmapGrid};
use crate::protocol::{StageData, Variant};
use crate::state::ScaleMode;
use crate::Shared;
use skipscope_engine::model::StageKind;
use skipscope_engine::{Skip, Upsample};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stage: Shared<StageData>,
    pub variant: Variant,
    pub depth: usize,
    pub scale_mode: ScaleMode,
    pub channel: Option<usize>,
    /// Class names, to label the head's channels.
    pub class_names: Vec<AttrValue>,
    pub on_channel: Callback<Option<usize>>,
    pub on_scale: Callback<ScaleMode>,
    /// Whether the lesson points at the decoder parts.
    #[prop_or_default]
    pub focus_parts: bool,
    /// The followed position's value in this stage's map, for the enlarged channel.
    #[prop_or_default]
    pub mark: Option<(usize, usize)>,
    /// Pointing at the enlarged channel follows that position.
    #[prop_or_default]
    pub on_point: Callback<super::pointable::Pointing>,
}

/// What a stage computes and why, exactly as the engine does it.
pub fn explanation(stage: &StageData, variant: Variant, depth: usize) -> Vec<String> {
    let level = stage.level;
    let c = stage.planes.shape.channels;
    match stage.kind {
        StageKind::Input => vec![
            "The photo, scaled to fit the model's working size (aspect ratio kept) and normalised per colour channel: (pixel / 255 − mean) / std. Values are signed, so the colour map diverges around zero.".into(),
        ],
        StageKind::Encoder => vec![
            format!("Two 3×3 convolutions, each followed by batch norm and ReLU, with {c} channels at 1/{} resolution. After ReLU every value is ≥ 0. (Batch norm is folded into the convolution: at inference its scale and shift are merged into the convolution's weights and bias, so it costs nothing.)", 1 << level),
            format!("This map, from before pooling, is what the level-{level} skip hands to the decoder."),
        ],
        StageKind::Pool => vec![
            "2×2 max pooling, stride 2: each output keeps the largest of four inputs and the resolution halves.".into(),
            format!("Pooling erases position: the output no longer says which of the four pixels held the maximum. The pool records it (the argmax; enlarge a channel to see it){}.",
                if variant.upsample == Upsample::Unpool { ", and this model's unpooling uses it" } else { "; this model's decoder does not use it" }),
        ],
        StageKind::Bottleneck => vec![format!(
            "Two more 3×3 convolutions with batch norm and ReLU at 1/{} resolution, {c} channels: each value sees a large part of the photo, but the map has only {} × {} positions.",
            1 << depth, stage.planes.shape.height, stage.planes.shape.width
        )],
        StageKind::Decoder => {
            let k = level;
            let up = match variant.upsample {
                Upsample::Unpool => format!("Max unpooling doubles the size by putting each value back where the maximum recorded by pool.{k} was, with zeros at the other three positions: position comes back, but only for the maxima."),
                Upsample::Transposed => "A transposed convolution (4×4, stride 2, initialised to bilinear) doubles the size: it learns how to spread each value over its neighbourhood, but it cannot know where the erased details were. It does not use pooling's indices.".into(),
                Upsample::Bilinear => "Bilinear interpolation doubles the size by averaging neighbours: smooth and fixed (nothing learned, no indices used); it cannot bring back erased details.".into(),
            };
            let skip = match variant.skip {
                Skip::None => "No skip: the decoder sees only the upsampled deep map, so what pooling erased is not available to it.".to_string(),
                Skip::Add => format!("Skip, added (as in FCN): enc.{k}, the encoder map from before pool.{k} at this resolution, goes through a 1×1 convolution and is added to the upsampled map. The 1×1 learns how the encoder's channels map onto what the decoder's channels mean, so that adding them makes sense. The skip makes the positions pooling erased available; whether this model uses them well shows in the masks below, not here."),
                Skip::Concat => format!("Skip, stacked (as in U-Net, drawn ‖): enc.{k}, the encoder map from before pool.{k}, is stacked onto the upsampled map as extra channels; nothing is added, and the next two convolutions learn how to combine them. The skip makes the positions pooling erased available; whether this model uses them well shows in the masks below, not here."),
            };
            vec![up, skip, format!("Then two 3×3 convolutions with batch norm and ReLU give {c} channels.")]
        }
        StageKind::Head => vec![format!(
            "A 1×1 convolution maps the features of each pixel to {c} class scores; softmax turns them into probabilities (one map per class below). The mask takes the most probable class."
        )],
    }
}

/// The selected stage: its explanation, for decoders its three parts, and its channels.
#[function_component]
pub fn StageView(props: &Props) -> Html {
    let stage = &props.stage;
    let paragraphs = explanation(stage, props.variant, props.depth).into_iter().map(|p| html! { <p>{ p }</p> });
    let per_channel = props.scale_mode == ScaleMode::PerChannel;
    let set_scale = |m: ScaleMode| props.on_scale.reform(move |_: Event| m);
    let channel = props.channel.unwrap_or(0);
    let parts = stage.parts.as_ref().map(|p| {
        let pc = channel.min(p.upsampled.shape.channels - 1);
        let skip_label = match props.variant.skip {
            Skip::None => "no skip term".to_string(),
            Skip::Add => format!("skip term: 1×1 conv of enc.{}", stage.level),
            Skip::Concat => format!("skip term: enc.{} itself", stage.level),
        };
        let fused_label = match props.variant.skip {
            Skip::None => "fused = upsampled".to_string(),
            Skip::Add => "fused = upsampled + skip".to_string(),
            Skip::Concat => format!(
                "‖ stacks them: {} channels, 0–{} the upsampled map, {}–{} enc.{}; shown: dec.{} after the two 3×3 convolutions that combine them",
                p.fused.shape.channels,
                p.upsampled.shape.channels - 1,
                p.upsampled.shape.channels,
                p.fused.shape.channels - 1,
                stage.level,
                stage.level
            ),
        };
        // For concat the fused map is only the two maps side by side (each channel is
        // identical to one of them): the stage's output shows what the convolutions made of them.
        let (fused_part, fused_channel) =
            if props.variant.skip == Skip::Concat { (Part::Output, pc.min(stage.planes.shape.channels - 1)) } else { (Part::Fused, pc) };
        html! {
            <div class={classes!("parts", props.focus_parts.then_some("focused"))} aria-label="decoder parts" data-focus="parts">
                <figure><Heatmap stage={stage.clone()} part={Part::Upsampled} channel={pc} scale={None} class="part" />
                    <figcaption>{ format!("upsampled deep map (ch {pc})") }</figcaption></figure>
                <span class="op" title={match props.variant.skip { Skip::None => "no skip", Skip::Add => "added", Skip::Concat => "stacked as channels" }}>{ match props.variant.skip { Skip::None => "→", Skip::Add => "+", Skip::Concat => "‖" } }</span>
                <figure>
                    if p.skip.is_some() {
                        <Heatmap stage={stage.clone()} part={Part::Skip} channel={pc} scale={None} class="part" />
                    } else {
                        <div class="part empty">{ "none" }</div>
                    }
                    <figcaption>{ format!("{skip_label} (ch {pc})") }</figcaption></figure>
                <span class="op">{ if props.variant.skip == Skip::Concat { "⇒" } else { "=" } }</span>
                <figure><Heatmap stage={stage.clone()} part={fused_part} channel={fused_channel} scale={None} class="part" />
                    <figcaption>{ format!("{fused_label} (ch {fused_channel})") }</figcaption></figure>
            </div>
        }
    });
    let s = stage.planes.shape;
    // Pool stages always show a channel enlarged, with where each maximum was.
    let zoomed = props.channel.or((stage.kind == StageKind::Pool).then_some(0));
    // Deep maps have few positions: drawn larger, with a word on what to look for.
    let deep = s.height <= 24 && stage.kind != StageKind::Input;
    let deep_hint = deep.then(|| {
        format!(
            "{} × {} positions: each square is one value, standing for a {}×{}-pixel block of the photo and computed from a wider region still. Look at which regions light up (road, sky, a car), not for edges: at this depth there are none to see.",
            s.height,
            s.width,
            1 << stage.level,
            1 << stage.level
        )
    });
    html! {
        <section class="stage-view" aria-label="selected stage">
            <h3>{ format!("{} — {} x {} x {} (C x H x W)", stage.name, s.channels, s.height, s.width) }</h3>
            <div class="explain">{ for paragraphs }</div>
            { parts.unwrap_or_default() }
            <div class="scale-mode" role="radiogroup" aria-label="colour scale">
                { "Colour scale: " }
                <label><input type="radio" name="scale" checked={per_channel} onchange={set_scale(ScaleMode::PerChannel)} />{ " per channel" }</label>
                <label><input type="radio" name="scale" checked={!per_channel} onchange={set_scale(ScaleMode::PerStage)} />{ " per stage" }</label>
                <span class="hint">{ " · per channel: each map stretched over its own range (shapes compare, strengths do not); per stage: one range for all, so strengths compare · viridis (dark blue to yellow) for maps of one sign, blue–white–red around zero for signed maps · click a channel to enlarge it" }</span>
            </div>
            if let Some(c) = zoomed {
                <ChannelZoom stage={stage.clone()} channel={c} scale_mode={props.scale_mode} on_close={props.on_channel.reform(|_| None)}
                    mark={props.mark} on_point={props.on_point.clone()} />
            }
            if let Some(h) = deep_hint { <p class="hint deep-hint">{ h }</p> }
            <div class={classes!(deep.then_some("deep"))}>
            <HeatmapGrid stage={stage.clone()} scale_mode={props.scale_mode} selected={props.channel} on_select={props.on_channel.clone()}
                labels={match stage.kind {
                    StageKind::Head => props.class_names.clone(),
                    StageKind::Input => vec!["R".into(), "G".into(), "B".into()],
                    _ => Vec::new(),
                }} />
            </div>
        </section>
    }
}

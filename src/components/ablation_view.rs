use super::pointable::{Pointable, Pointing};
use crate::ablation::{mean, skip_share};
use crate::colormap::Scale;
use crate::masks::{agreement, disagreement_map, overlay};
use crate::picture::Picture;
use crate::position::Position;
use crate::protocol::{Mask, StageData, Variant};
use crate::Shared;
use skipscope_engine::weights::ClassInfo;
use skipscope_engine::Skip;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub picture: Shared<Picture>,
    pub variant: Variant,
    pub depth: usize,
    /// False: randomly initialised weights.
    pub trained: bool,
    pub stages: Vec<Shared<StageData>>,
    pub position: Position,
    /// The full model's mask.
    pub mask: Shared<Mask>,
    pub classes: Vec<ClassInfo>,
    pub opacity: f64,
    /// `off[k]`: the skip of `dec.k` is switched off.
    pub off: Vec<bool>,
    /// The ablated model's mask for `off`: none while it runs (or when no level is off).
    pub ablated: Option<Result<Shared<Mask>, String>>,
    /// The trained skipless variant's mask, when the comparison has it.
    pub skipless: Option<Shared<Mask>>,
    /// Why the trained skipless variant cannot be shown, if it cannot.
    pub skipless_missing: Option<AttrValue>,
    pub on_ablate: Callback<Vec<bool>>,
    pub on_variant: Callback<Variant>,
    pub on_point: Callback<(Option<Position>, bool)>,
}

/// A share map's pixels: viridis over the fixed range 0..1.
fn share_rgba(share: &[f32]) -> Vec<u8> {
    Scale::for_range(0.0, 1.0).rgba(share)
}

#[derive(Properties, PartialEq)]
struct ShareProps {
    stage: Shared<StageData>,
    position: Position,
    valid: (usize, usize),
    on_point: Callback<(Option<Position>, bool)>,
}

#[function_component]
fn ShareMap(props: &ShareProps) -> Html {
    let share = use_memo(props.stage.clone(), |s| {
        let share = s.parts.as_ref().and_then(skip_share);
        share.map(|v| (mean(&v), Shared(Rc::new(share_rgba(&v))), Rc::new(v)))
    });
    let Some((avg, pixels, values)) = (*share).clone() else { return html! {} };
    let s = props.stage.planes.shape;
    let level = props.stage.level;
    let (y, x) = props.position.at_level(level);
    let here = values.get(y * s.width + x).copied();
    let (valid, pos, cb) = (props.valid, props.position, props.on_point.clone());
    let on_point = Callback::from(move |p: Pointing| match p {
        Pointing::At { fy, fx, pin } => cb.emit((Some(Position::of_fraction(fy, fx, s.height, s.width, level, valid.0, valid.1)), pin)),
        Pointing::Left => cb.emit((None, false)),
        Pointing::Key { dy, dx } => cb.emit((Some(pos.moved(dy << level, dx << level, valid.0, valid.1)), true)),
    });
    html! {
        <figure class="share" data-stage={props.stage.name.clone()}>
            <Pointable {pixels} width={s.width} height={s.height} class="share-map" label={AttrValue::from(format!("{}: the skip's share", props.stage.name))}
                mark={Some((y, x))} {on_point} />
            <figcaption>{ format!("{} ({}×{}): mean {:.0}%, here {}", props.stage.name, s.height, s.width, 100.0 * avg,
                here.map(|h| format!("{:.0}%", 100.0 * h)).unwrap_or_else(|| "—".into())) }</figcaption>
        </figure>
    }
}

/// Switching the skip off at inference, level by level: the masks with and without it and
/// where they differ, beside the trained skipless variant; and per decoder level the skip's
/// share of the fused value.
#[function_component]
pub fn AblationView(props: &Props) -> Html {
    let p = &props.picture;
    let (vh, vw) = (p.input.valid_height, p.input.valid_width);
    let any_off = props.off.iter().any(|o| *o);
    let o = (props.opacity * 100.0).round() as i32;
    let full_px =
        use_memo((p.clone(), props.mask.clone(), props.classes.clone(), o), |(p, m, c, o)| Shared(Rc::new(overlay(&p.rgba, m, c, *o as f64 / 100.0))));
    let ablated_mask = match &props.ablated {
        Some(Ok(m)) if any_off => Some(m.clone()),
        _ => None,
    };
    let ablated_px = use_memo((p.clone(), ablated_mask.clone(), props.classes.clone(), o), |(p, m, c, o)| {
        m.as_ref().map(|m| Shared(Rc::new(overlay(&p.rgba, m, c, *o as f64 / 100.0))))
    });
    let diff_px = use_memo((p.clone(), props.mask.clone(), ablated_mask.clone()), |(p, full, m)| {
        m.as_ref().map(|m| (Shared(Rc::new(disagreement_map(&p.rgba, &[(full, [255, 255, 255]), (m, [255, 200, 0])]))), 1.0 - agreement(full, m)))
    });
    let skipless_px = use_memo((p.clone(), props.skipless.clone(), props.classes.clone(), o), |(p, m, c, o)| {
        m.as_ref().map(|m| Shared(Rc::new(overlay(&p.rgba, m, c, *o as f64 / 100.0))))
    });
    let canvas = |px: Shared<Vec<u8>>, label: &str| html! { <super::RgbaCanvas pixels={px} width={vw} height={vh} class="abl-mask" label={AttrValue::from(label.to_string())} /> };
    let toggles = (0..props.depth).map(|k| {
        let on = !props.off.get(k).copied().unwrap_or(false);
        let (cb, off, depth) = (props.on_ablate.clone(), props.off.clone(), props.depth);
        let onchange = Callback::from(move |e: Event| {
            let checked = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).is_some_and(|i| i.checked());
            let mut flags: Vec<bool> = (0..depth).map(|i| off.get(i).copied().unwrap_or(false)).collect();
            flags[k] = !checked;
            cb.emit(flags);
        });
        let size = props.stages.iter().find(|s| s.name == format!("dec.{k}")).map(|s| format!(", {}×{}", s.planes.shape.height, s.planes.shape.width)).unwrap_or_default();
        html! { <label class="abl-level"><input type="checkbox" checked={on} {onchange} data-level={k.to_string()} />{ format!(" level {k} (dec.{k}{size})") }</label> }
    });
    let all = |off: bool| {
        let (cb, depth) = (props.on_ablate.clone(), props.depth);
        Callback::from(move |_| cb.emit(vec![off; depth]))
    };
    let mode = if props.variant.skip == Skip::Add {
        "add: the 1×1 term is dropped, bias included, so the block sees the upsampled map alone"
    } else {
        "concat: the encoder's channels of the stack are zeros"
    };
    let skipless_variant = props.variant.with_skip(Skip::None);
    let on_skipless = props.on_variant.reform(move |_| skipless_variant);
    let off_levels: Vec<String> = props.off.iter().enumerate().filter(|(_, o)| **o).map(|(k, _)| k.to_string()).collect();
    let shares = props.stages.iter().filter(|s| s.parts.as_ref().is_some_and(|p| p.skip.is_some())).map(|s| {
        html! { <ShareMap key={s.name.clone()} stage={s.clone()} position={props.position} valid={(vh, vw)} on_point={props.on_point.clone()} /> }
    });
    html! {
        <section class="ablation" aria-label="switch a skip off">
            <p class="plain">{ format!("Switch the skip off in this {} {} model, at inference ({mode}). An ablated network is not a network trained without a skip: its decoder was trained to expect the skip, so this shows what the trained model relies on, not how well a skipless model does. The trained skipless variant, {skipless_variant}, is beside it for that.", if props.trained { "trained" } else { "randomly initialised (no trained weights)" }, props.variant) }</p>
            <div class="abl-toggles" role="group" aria-label="skip per level">
                { "Skip on at: " }{ for toggles }
                <button class="small" onclick={all(true)}>{ "all off" }</button>
                <button class="small" onclick={all(false)}>{ "all on" }</button>
            </div>
            <div class="abl-masks">
                <figure>{ canvas((*full_px).clone(), "the full model's mask") }<figcaption>{ format!("{} as trained", props.variant) }</figcaption></figure>
                <figure data-role="ablated">
                    if let Some(px) = (*ablated_px).clone() { { canvas(px, "the ablated model's mask") } } else { <div class="abl-mask empty" style={format!("aspect-ratio: {vw} / {vh}")}>{
                        match (&props.ablated, any_off) {
                            (_, false) => "every skip is on: the same as the full model".to_string(),
                            (Some(Err(e)), true) => format!("failed: {e}"),
                            _ => "computing…".to_string(),
                        } }</div> }
                    <figcaption>{ if any_off { format!("skip off at level {}", off_levels.join(", ")) } else { "ablated (switch a level off)".to_string() } }</figcaption>
                </figure>
                <figure data-role="difference">
                    if let Some((px, share)) = (*diff_px).clone() { { canvas(px, "where the ablated mask differs") } <figcaption class="abl-diff">{ format!("differs at {:.1}% of the pixels (magenta); boundaries as trained white, ablated orange", 100.0 * share) }</figcaption> }
                    else { <div class="abl-mask empty" style={format!("aspect-ratio: {vw} / {vh}")}>{ "—" }</div><figcaption>{ "where they differ" }</figcaption> }
                </figure>
                <figure data-role="skipless">
                    if let Some(px) = (*skipless_px).clone() { { canvas(px, "the trained skipless variant's mask") } } else { <div class="abl-mask empty" style={format!("aspect-ratio: {vw} / {vh}")}>{ props.skipless_missing.clone().unwrap_or_else(|| AttrValue::from("computing…")) }</div> }
                    <figcaption>{ format!("{skipless_variant}, trained without a skip ") }
                        if props.skipless_missing.is_none() { <button class="small" onclick={on_skipless}>{ "show it" }</button> }</figcaption>
                </figure>
            </div>
            <h4>{ "The skip's share of the fused value, per pixel" }</h4>
            <p class="hint">{ "Σ|skip| / (Σ|upsampled| + Σ|skip|) over the level's channels, for the full model (0: the upsampled map alone; 1: the skip alone); viridis from 0 (dark) to 1 (yellow)." }</p>
            <div class="shares">{ for shares }</div>
        </section>
    }
}

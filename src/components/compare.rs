use super::RgbaCanvas;
use crate::masks::{agreement, disagreement, disagreement_map, overlay};
use crate::picture::{Label, Picture};
use crate::protocol::Mask;
pub use crate::state::Slot;
use crate::Shared;
use ndarray::ArrayView2;
use skipscope_engine::metrics::{score_image, Scores};
use skipscope_engine::{Skip, Upsample};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub picture: Shared<Picture>,
    pub upsample: Upsample,
    /// One per skip mode, in `Skip::ALL` order.
    pub slots: Vec<(Skip, Slot)>,
    pub opacity: f64,
    /// The ground truth, when the user gave one: then each mode is scored.
    pub label: Option<Shared<Label>>,
    pub label_error: Option<AttrValue>,
    /// What a label image may hold, e.g. "the legend's colours, or class indices 0–3 with 4 = void".
    pub label_format: AttrValue,
    pub on_label: Callback<File>,
}

/// G, mIoU and BF of `mask` against `label` (void pixels ignored); none when sizes differ.
pub fn score(mask: &Mask, label: &Label, n_classes: usize) -> Option<Scores> {
    let pred = ArrayView2::from_shape((mask.height, mask.width), &mask.classes).ok()?;
    let truth = ArrayView2::from_shape((label.height, label.width), &label.classes).ok()?;
    score_image(pred, truth, n_classes, Some(label.void)).ok()
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", 100.0 * v)).unwrap_or_else(|| "n/a".into())
}

/// Boundary colours of the three modes in the disagreement map.
pub fn boundary_color(skip: Skip) -> [u8; 3] {
    match skip {
        Skip::None => [255, 140, 0],
        Skip::Add => [0, 200, 255],
        Skip::Concat => [120, 255, 60],
    }
}

/// The three skip modes side by side on the same photo, the pixels where they disagree,
/// their boundaries over the photo, and how often each pair agrees. Its props compare in
/// O(1) (shared masks and pictures, a stable label callback) and stay equal while a trace
/// streams its stages, so its canvases are drawn only when a mask, the picture, the opacity
/// or the label changes.
#[function_component]
pub fn Compare(props: &Props) -> Html {
    let ready: Vec<(Skip, Shared<Mask>)> =
        props.slots.iter().filter_map(|(s, slot)| if let Slot::Ready(seg) = slot { Some((*s, seg.mask.clone())) } else { None }).collect();
    let p = &props.picture;
    let map = use_memo((p.clone(), ready.clone()), |(p, ready)| {
        let masks: Vec<(&Mask, [u8; 3])> = ready.iter().map(|(s, m)| (&**m, boundary_color(*s))).collect();
        let only: Vec<&Mask> = masks.iter().map(|(m, _)| *m).collect();
        let differ = disagreement(&only).iter().filter(|d| **d).count();
        (Shared(Rc::new(disagreement_map(&p.rgba, &masks))), differ)
    });
    let columns = props.slots.iter().map(|(skip, slot)| {
        let body = match slot {
            Slot::Ready(seg) => {
                let pixels = Shared(Rc::new(overlay(&p.rgba, &seg.mask, &seg.model.classes, props.opacity)));
                html! {
                    <>
                        <RgbaCanvas {pixels} width={seg.mask.width} height={seg.mask.height} class="cmp" label={AttrValue::from(format!("mask with skip {}", skip.name()))} />
                        if !seg.model.trained { <small class="warn-text">{ "random weights" }</small> }
                    </>
                }
            }
            Slot::Pending => html! { <div class="cmp empty">{ "running…" }</div> },
            Slot::Missing(why) => html! { <div class="cmp empty">{ why.clone() }</div> },
        };
        let [r, g, b] = boundary_color(*skip);
        html! {
            <figure key={skip.name()} data-skip={skip.name()}>
                { body }
                <figcaption><span class="swatch" style={format!("background: rgb({r},{g},{b})")}></span>{ format!("{}-{}", props.upsample.name(), skip.name()) }</figcaption>
            </figure>
        }
    });
    let pairs: Vec<String> = ready
        .iter()
        .enumerate()
        .flat_map(|(i, (a, ma))| ready[i + 1..].iter().map(move |(b, mb)| format!("{} vs {}: {:.1}%", a.name(), b.name(), 100.0 * agreement(ma, mb))))
        .collect();
    let (pixels, differ) = &*map;
    let n_classes = props.slots.iter().find_map(|(_, slot)| if let Slot::Ready(seg) = slot { Some(seg.model.classes.len()) } else { None }).unwrap_or(0);
    let scores = use_memo((ready.clone(), props.label.clone(), n_classes), |(ready, label, n_classes)| {
        let Some(label) = label else { return Vec::new() };
        ready.iter().map(|(s, m)| (*s, score(m, label, *n_classes))).collect::<Vec<_>>()
    });
    let on_label_change = {
        let on_label = props.on_label.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_label.emit(file);
            }
            input.set_value("");
        })
    };
    let score_rows = scores.iter().map(|(s, sc)| match sc {
        Some(sc) => html! { <tr key={s.name()}><td>{ s.name() }</td><td class="num">{ pct(Some(sc.g)) }</td><td class="num">{ pct(Some(sc.miou)) }</td><td class="num">{ pct(sc.bf) }</td><td class="num">{ sc.pixels }</td></tr> },
        None => html! { <tr key={s.name()}><td>{ s.name() }</td><td colspan="4">{ "the label does not match the mask" }</td></tr> },
    });
    let total = p.rgba.len() / 4;
    html! {
        <section class="compare" aria-label="skip modes compared">
            <div class="cmp-row">
                { for columns }
                <figure data-role="disagreement">
                    <RgbaCanvas pixels={pixels.clone()} width={p.input.valid_width} height={p.input.valid_height} class="cmp" label={AttrValue::from("disagreement map")} />
                    <figcaption>{ "disagreement (magenta) and boundaries" }</figcaption>
                </figure>
            </div>
            <p class="label-input">
                <label>{ "Ground truth: " }<input type="file" accept="image/*" onchange={on_label_change} aria-label="upload a label image" /></label>
                <span class="hint">{ format!(" a label image of this photo ({}) scores each mode.", props.label_format) }</span>
            </p>
            if let Some(e) = &props.label_error { <p class="error" role="alert">{ e.clone() }</p> }
            if let Some(label) = &props.label {
                <table class="scores" aria-label="scores against the label">
                    <caption>{ format!("Scores against {} (void pixels ignored)", label.name) }</caption>
                    <thead><tr><th>{ "skip" }</th><th>{ "G" }</th><th>{ "mIoU" }</th><th>{ "BF" }</th><th>{ "pixels" }</th></tr></thead>
                    <tbody>{ for score_rows }</tbody>
                </table>
            }
            if ready.len() >= 2 {
                <p class="agreement">
                    { format!("The {} masks disagree on {:.1}% of the pixels. Pairwise agreement: {}.", ready.len(), 100.0 * *differ as f64 / total.max(1) as f64, pairs.join("; ")) }
                </p>
            }
        </section>
    }
}

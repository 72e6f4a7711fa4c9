use super::RgbaCanvas;
use crate::hooks::use_deferred;
use crate::masks::{agreement, boundary_far_share, disagreement, disagreement_map, overlay};
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
    // What it shows follows the page one task late: the shown mask is drawn and painted
    // before these canvases are.
    let (picture, upsample, slots, label) = use_deferred((props.picture.clone(), props.upsample, props.slots.clone(), props.label.clone()));
    let ready: Vec<(Skip, Shared<Mask>)> =
        slots.iter().filter_map(|(s, slot)| if let Slot::Ready(seg) = slot { Some((*s, seg.mask.clone())) } else { None }).collect();
    let p = &picture;
    let map = use_memo((p.clone(), ready.clone()), |(p, ready)| {
        let masks: Vec<(&Mask, [u8; 3])> = ready.iter().map(|(s, m)| (&**m, boundary_color(*s))).collect();
        let only: Vec<&Mask> = masks.iter().map(|(m, _)| *m).collect();
        let differ = disagreement(&only).iter().filter(|d| **d).count();
        (Shared(Rc::new(disagreement_map(&p.rgba, &masks))), differ)
    });
    // The enlarged view: which picture (a skip mode's mask, or the disagreement map) and the
    // zoom; flipping keeps the same canvas, so its scrolled crop stays.
    let big = use_state(|| None::<Option<Skip>>);
    let zoom = use_state(|| 1usize);
    // Each mode's overlay is computed again only when its mask, the photo or the opacity
    // changed (a new mask of one mode leaves the others' canvases as they are).
    let kept = use_mut_ref(Vec::<(Skip, Shared<Mask>, Shared<Picture>, u64, Shared<Vec<u8>>)>::new);
    let overlays: Vec<(Skip, Shared<Vec<u8>>)> = {
        let mut kept = kept.borrow_mut();
        let opacity = props.opacity.to_bits();
        let fresh: Vec<_> = slots
            .iter()
            .filter_map(|(s, slot)| {
                let Slot::Ready(seg) = slot else { return None };
                let same =
                    |(k, m, q, o, _): &&(Skip, Shared<Mask>, Shared<Picture>, u64, Shared<Vec<u8>>)| *k == *s && *m == seg.mask && q == p && *o == opacity;
                let pixels = match kept.iter().find(same) {
                    Some((.., px)) => px.clone(),
                    None => Shared(Rc::new(overlay(&p.rgba, &seg.mask, &seg.model.classes, props.opacity))),
                };
                Some((*s, seg.mask.clone(), p.clone(), opacity, pixels))
            })
            .collect();
        *kept = fresh;
        kept.iter().map(|(s, .., px)| (*s, px.clone())).collect()
    };
    let enlarge = |which: Option<Skip>| {
        let big = big.clone();
        Callback::from(move |_: MouseEvent| big.set(Some(which)))
    };
    let columns = slots.iter().map(|(skip, slot)| {
        let body = match slot {
            Slot::Ready(seg) => {
                let pixels = overlays.iter().find(|(s, _)| s == skip).map(|(_, px)| px.clone()).unwrap_or_else(|| Shared(Rc::new(Vec::new())));
                html! {
                    <>
                        <RgbaCanvas {pixels} width={seg.mask.width} height={seg.mask.height} class="cmp" label={AttrValue::from(crate::alt_text::mask(&format!("mask with skip {}", skip.name()), &format!("{}-{}", upsample.name(), skip.name()), &seg.mask, &seg.model.classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()))} />
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
                <figcaption><span class="swatch" style={format!("background: rgb({r},{g},{b})")}></span>{ format!("{}-{}", upsample.name(), skip.name()) }
                    if matches!(slot, Slot::Ready(_)) { { " " }<button class="small enlarge" onclick={enlarge(Some(*skip))} aria-label={format!("enlarge the {} mask", skip.name())}>{ "enlarge" }</button> }
                </figcaption>
            </figure>
        }
    });
    // The agreement and boundary sentences, once per set of masks.
    let sentences = use_memo(ready.clone(), |ready| {
        let pairs: Vec<String> = ready
            .iter()
            .enumerate()
            .flat_map(|(i, (a, ma))| ready[i + 1..].iter().map(move |(b, mb)| format!("{} vs {}: {:.1}%", a.name(), b.name(), 100.0 * agreement(ma, mb))))
            .collect();
        let none = ready.iter().find(|(s, _)| *s == Skip::None);
        let far: String = ready
            .iter()
            .filter(|(s, _)| *s != Skip::None)
            .filter_map(|(s, m)| none.and_then(|(_, n)| boundary_far_share(n, m, crate::lesson::BOUNDARY_TOLERANCE)).map(|v| (s, v)))
            .map(|(s, v)| {
                format!(
                    " {:.1}% of the none mask's boundary pixels lie more than {} pixels from the {} mask's boundary.",
                    100.0 * v,
                    crate::lesson::BOUNDARY_TOLERANCE,
                    s.name()
                )
            })
            .collect();
        (pairs, far)
    });
    let (pairs, far) = &*sentences;
    let (pixels, differ) = &*map;
    let n_classes = slots.iter().find_map(|(_, slot)| if let Slot::Ready(seg) = slot { Some(seg.model.classes.len()) } else { None }).unwrap_or(0);
    let scores = use_memo((ready.clone(), label.clone(), n_classes), |(ready, label, n_classes)| {
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
                    <RgbaCanvas pixels={pixels.clone()} width={p.input.valid_width} height={p.input.valid_height} class="cmp" label={AttrValue::from(crate::alt_text::photo(&format!("disagreement map: {differ} pixels where the skip modes' masks differ (magenta), boundaries in each mode's colour"), p.input.valid_height, p.input.valid_width))} />
                    <figcaption>{ "disagreement (magenta) and boundaries" }{ " " }
                        <button class="small enlarge" onclick={enlarge(None)} aria-label="enlarge the disagreement map">{ "enlarge" }</button></figcaption>
                </figure>
            </div>
            <p class="hint cmp-explain">
                { "The first three pictures are the masks of the three skip modes at this upsampling. The fourth is the photo in grey with the pixels where the three masks do not all agree in magenta, and each mask's boundaries drawn in its column's colour (orange: none, blue: add, green: concat)." }
            </p>
            if let Some(which) = *big {
                { enlarged(which, &overlays, pixels, p, *zoom, &big, &zoom, upsample) }
            }
            <p class="label-input">
                <label>{ "Ground truth: " }<input type="file" accept="image/*" onchange={on_label_change} aria-label="upload a label image" /></label>
                <span class="hint">{ format!(" a label image of this photo ({}) scores each mode.", props.label_format) }</span>
            </p>
            if let Some(e) = &props.label_error { <p class="error" role="alert">{ e.clone() }</p> }
            if let Some(label) = &label {
                <table class="scores" aria-label="scores against the label">
                    <caption>{ format!("Scores against {} (void pixels ignored)", label.name) }</caption>
                    <thead><tr><th>{ "skip" }</th><th>{ "G" }</th><th>{ "mIoU" }</th><th>{ "BF" }</th><th>{ "pixels" }</th></tr></thead>
                    <tbody>{ for score_rows }</tbody>
                </table>
            }
            if ready.len() >= 2 {
                <p class="agreement">
                    { format!("The {} masks disagree on {:.1}% of the pixels. Pairwise agreement: {}.", ready.len(), 100.0 * *differ as f64 / total.max(1) as f64, pairs.join("; ")) }
                    { far.clone() }
                </p>
            }
            if label.is_none() {
                <p class="hint no-truth">{ "This photo has no ground truth, so none of these masks is known to be right: they are compared with each other. Which variant is right more often is what the test-set table below measures; give a label image above to score these masks." }</p>
            }
        </section>
    }
}

/// The enlarged picture: buttons to flip between the masks and the disagreement map, a zoom,
/// and one canvas in a scrolled box (the crop stays when flipping).
#[allow(clippy::too_many_arguments)]
fn enlarged(
    which: Option<Skip>,
    overlays: &[(Skip, Shared<Vec<u8>>)],
    disagreement: &Shared<Vec<u8>>,
    p: &Picture,
    zoom: usize,
    big: &UseStateHandle<Option<Option<Skip>>>,
    zoom_state: &UseStateHandle<usize>,
    upsample: Upsample,
) -> Html {
    let pixels = match which {
        Some(s) => overlays.iter().find(|(o, _)| *o == s).map(|(_, px)| px.clone()).unwrap_or_else(|| disagreement.clone()),
        None => disagreement.clone(),
    };
    let mut modes: Vec<(Option<Skip>, String)> = overlays.iter().map(|(s, _)| (Some(*s), format!("{}-{}", upsample.name(), s.name()))).collect();
    modes.push((None, "disagreement".into()));
    let mode_buttons = modes.into_iter().map(|(m, label)| {
        let on = m == which;
        let big = big.clone();
        html! { <button class={classes!("small", on.then_some("on"))} aria-pressed={on.to_string()} data-mode={m.map_or("disagreement", |s| s.name())}
        onclick={Callback::from(move |_: MouseEvent| big.set(Some(m)))}>{ label }</button> }
    });
    let zooms = [1usize, 2, 4].into_iter().map(|z| {
        let on = z == zoom;
        let zs = zoom_state.clone();
        html! { <button class={classes!("small", on.then_some("on"))} aria-pressed={on.to_string()} onclick={Callback::from(move |_: MouseEvent| zs.set(z))}>{ format!("×{z}") }</button> }
    });
    let close = {
        let big = big.clone();
        Callback::from(move |_: MouseEvent| big.set(None))
    };
    html! {
        <div class="cmp-big" aria-label="enlarged comparison">
            <div class="cmp-big-bar">
                <span role="group" aria-label="show">{ for mode_buttons }</span>
                <span role="group" aria-label="zoom">{ "zoom " }{ for zooms }</span>
                <button class="small" onclick={close} aria-label="close the enlarged view">{ "close" }</button>
            </div>
            <div class="cmp-big-scroll">
                <div style={format!("width: {}%", 100 * zoom)}>
                    <RgbaCanvas {pixels} width={p.input.valid_width} height={p.input.valid_height} class="cmp-large"
                        label={AttrValue::from(crate::alt_text::photo("enlarged comparison picture", p.input.valid_height, p.input.valid_width))} />
                </div>
            </div>
            <p class="hint">{ "Flip between the modes: the same crop stays in view. Scroll inside the picture when zoomed." }</p>
        </div>
    }
}

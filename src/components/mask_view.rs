use super::pointable::{Pointable, Pointing};
use super::Legend;
use crate::masks::{class_counts, overlay};
use crate::picture::Picture;
use crate::protocol::{Mask, Variant};
use crate::Shared;
use skipscope_engine::weights::ClassInfo;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub picture: Shared<Picture>,
    /// The shown variant's mask of the picture; none while it is computed, or where it
    /// cannot be.
    pub mask: Option<Shared<Mask>>,
    /// Whether that mask is being computed (or about to be).
    pub computing: bool,
    /// The variant the mask is of (for its text alternative).
    pub variant: Variant,
    pub classes: Vec<ClassInfo>,
    pub opacity: f64,
    pub on_opacity: Callback<f64>,
    /// The followed position's pixel `(y, x)`: a crosshair there.
    #[prop_or_default]
    pub mark: Option<(usize, usize)>,
    /// Pointing at the mask follows that position (see "Look closer").
    pub on_point: Callback<Pointing>,
}

/// The mask over the photo, with an opacity slider and the class legend. While a new mask
/// is computed, the last one stays in the page, hidden (`visibility: hidden`): the page
/// below does not move, and its canvas is drawn again rather than made anew. Without a
/// mask and none computed (a failed run), nothing.
#[function_component]
pub fn MaskView(props: &Props) -> Html {
    let last = use_mut_ref(|| None::<(Shared<Picture>, Shared<Mask>, Variant, Vec<ClassInfo>)>);
    if let Some(mask) = &props.mask {
        *last.borrow_mut() = Some((props.picture.clone(), mask.clone(), props.variant, props.classes.clone()));
    }
    let shown = last.borrow().clone().filter(|_| props.mask.is_some() || props.computing);
    let drawn = shown.as_ref().map(|(picture, mask, _, classes)| (picture.clone(), mask.clone(), classes.clone()));
    let pixels = use_memo((drawn, (props.opacity * 100.0).round() as i32), |(drawn, o)| {
        drawn.as_ref().map(|(p, m, c)| Shared(Rc::new(overlay(&p.rgba, m, c, *o as f64 / 100.0))))
    });
    let (Some((_, mask, variant, classes)), Some(pixels)) = (shown, (*pixels).clone()) else { return Html::default() };
    let pending = props.mask.is_none();
    let counts = class_counts(&mask, classes.len());
    let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
    let label = crate::alt_text::mask("the mask over the photo (point to follow a position)", &variant.to_string(), &mask, &names);
    let oninput = props.on_opacity.reform(|e: InputEvent| {
        e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).and_then(|i| i.value().parse::<f64>().ok()).unwrap_or(60.0) / 100.0
    });
    html! {
        <section class={classes!("mask-view", pending.then_some("pending"))} aria-label="segmentation" aria-hidden={pending.then_some("true")}>
            <Pointable {pixels} width={mask.width} height={mask.height} class="mask-wrap" canvas_class="mask" label={AttrValue::from(label)}
                mark={props.mark} on_point={props.on_point.clone()} />
            <div class="mask-side">
                <label>{ "Mask opacity " }
                    <input type="range" min="0" max="100" value={((props.opacity * 100.0).round() as i32).to_string()} {oninput} aria-label="mask opacity" />
                </label>
                <Legend {classes} {counts} />
            </div>
        </section>
    }
}

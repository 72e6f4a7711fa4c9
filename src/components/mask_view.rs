use super::pointable::{Pointable, Pointing};
use super::Legend;
use crate::masks::{class_counts, overlay};
use crate::picture::Picture;
use crate::protocol::Mask;
use crate::Shared;
use skipscope_engine::weights::ClassInfo;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub picture: Shared<Picture>,
    pub mask: Shared<Mask>,
    pub classes: Vec<ClassInfo>,
    pub opacity: f64,
    pub on_opacity: Callback<f64>,
    /// The followed position's pixel `(y, x)`: a crosshair there.
    #[prop_or_default]
    pub mark: Option<(usize, usize)>,
    /// Pointing at the mask follows that position (see "Look closer").
    pub on_point: Callback<Pointing>,
}

/// The mask over the photo, with an opacity slider and the class legend.
#[function_component]
pub fn MaskView(props: &Props) -> Html {
    let pixels = use_memo((props.picture.clone(), props.mask.clone(), props.classes.clone(), (props.opacity * 100.0).round() as i32), |(p, m, c, o)| {
        Shared(Rc::new(overlay(&p.rgba, m, c, *o as f64 / 100.0)))
    });
    let counts = class_counts(&props.mask, props.classes.len());
    let oninput = props.on_opacity.reform(|e: InputEvent| {
        e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()).and_then(|i| i.value().parse::<f64>().ok()).unwrap_or(60.0) / 100.0
    });
    html! {
        <section class="mask-view" aria-label="segmentation">
            <Pointable pixels={(*pixels).clone()} width={props.mask.width} height={props.mask.height} class="mask-wrap" canvas_class="mask" label={AttrValue::from("the mask over the photo: point to follow a position")}
                mark={props.mark} on_point={props.on_point.clone()} />
            <div class="mask-side">
                <label>{ "Mask opacity " }
                    <input type="range" min="0" max="100" value={((props.opacity * 100.0).round() as i32).to_string()} {oninput} aria-label="mask opacity" />
                </label>
                <Legend classes={props.classes.clone()} {counts} />
            </div>
        </section>
    }
}

use super::{Legend, RgbaCanvas};
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
            <RgbaCanvas pixels={(*pixels).clone()} width={props.mask.width} height={props.mask.height} class="mask" label={AttrValue::from("the mask over the photo")} />
            <div class="mask-side">
                <label>{ "Mask opacity " }
                    <input type="range" min="0" max="100" value={((props.opacity * 100.0).round() as i32).to_string()} {oninput} aria-label="mask opacity" />
                </label>
                <Legend classes={props.classes.clone()} {counts} />
            </div>
        </section>
    }
}

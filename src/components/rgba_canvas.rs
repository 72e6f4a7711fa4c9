use crate::picture::put_rgba;
use crate::Shared;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// RGBA, `width x height x 4` bytes.
    pub pixels: Shared<Vec<u8>>,
    pub width: usize,
    pub height: usize,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub label: Option<AttrValue>,
    #[prop_or_default]
    pub onmousemove: Option<Callback<MouseEvent>>,
    #[prop_or_default]
    pub onmouseleave: Option<Callback<MouseEvent>>,
}

/// A canvas showing `pixels` at their own resolution (CSS scales it); redrawn only when the
/// pixels change. A size mismatch draws nothing (never panics).
#[function_component]
pub fn RgbaCanvas(props: &Props) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with((props.pixels.clone(), props.width, props.height), move |(pixels, w, h)| {
            if let Some(canvas) = node.cast::<HtmlCanvasElement>() {
                if let Err(e) = put_rgba(&canvas, pixels, *w, *h) {
                    web_sys::console::warn_1(&format!("canvas {}: {e}", canvas.class_name()).into());
                }
                if canvas.class_name() == "mask" {
                    crate::mark("page: drew mask");
                }
            }
        });
    }
    html! {
        <canvas ref={node} class={props.class.clone()} role="img" aria-label={props.label.clone()}
            onmousemove={props.onmousemove.clone()} onmouseleave={props.onmouseleave.clone()} />
    }
}

use super::RgbaCanvas;
use crate::Shared;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A pointer or key on a map: where, as fractions of the map, and whether it pins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pointing {
    /// At `(fy, fx)`, each in `0..1`; `pin`: a click or a tap.
    At { fy: f64, fx: f64, pin: bool },
    /// The pointer left the map.
    Left,
    /// An arrow key: move the pinned position by `(dy, dx)` values of this map.
    Key { dy: i64, dx: i64 },
}

/// A rectangle of a map's values, inclusive: rows `top..=bottom`, columns `left..=right`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub pixels: Shared<Vec<u8>>,
    pub width: usize,
    pub height: usize,
    /// The wrapper's classes.
    #[prop_or_default]
    pub class: Classes,
    /// The canvas's classes.
    #[prop_or_default]
    pub canvas_class: Classes,
    pub label: AttrValue,
    /// The marked value `(y, x)`: a crosshair through it.
    #[prop_or_default]
    pub mark: Option<(usize, usize)>,
    /// A region drawn over the map (the receptive field, on the photo).
    #[prop_or_default]
    pub rect: Option<Rect>,
    pub on_point: Callback<Pointing>,
}

fn pct(v: f64, n: usize) -> String {
    format!("{:.4}%", 100.0 * v / n.max(1) as f64)
}

/// A map that can be pointed at (hover, click or tap, arrow keys when focused), with a
/// crosshair on the marked value and an optional rectangle; the overlays are positioned
/// boxes, so moving them never redraws the canvas.
#[function_component]
pub fn Pointable(props: &Props) -> Html {
    let at = |e: &PointerEvent, pin: bool| -> Option<Pointing> {
        let el = e.current_target()?.dyn_into::<web_sys::Element>().ok()?;
        let r = el.get_bounding_client_rect();
        if r.width() <= 0.0 || r.height() <= 0.0 {
            return None;
        }
        let fx = ((e.client_x() as f64 - r.left()) / r.width()).clamp(0.0, 0.999_999);
        let fy = ((e.client_y() as f64 - r.top()) / r.height()).clamp(0.0, 0.999_999);
        Some(Pointing::At { fy, fx, pin })
    };
    let onpointermove = {
        let cb = props.on_point.clone();
        Callback::from(move |e: PointerEvent| {
            // A finger dragging across a map scrolls the page; only a mouse or pen hovers.
            if e.pointer_type() != "touch" {
                if let Some(p) = at(&e, false) {
                    cb.emit(p)
                }
            }
        })
    };
    let onpointerdown = {
        let cb = props.on_point.clone();
        Callback::from(move |e: PointerEvent| {
            if let Some(p) = at(&e, true) {
                cb.emit(p)
            }
        })
    };
    let onpointerleave = props.on_point.reform(|_: PointerEvent| Pointing::Left);
    let onkeydown = {
        let cb = props.on_point.clone();
        Callback::from(move |e: KeyboardEvent| {
            let step = if e.shift_key() { 8 } else { 1 };
            let (dy, dx) = match e.key().as_str() {
                "ArrowUp" => (-step, 0),
                "ArrowDown" => (step, 0),
                "ArrowLeft" => (0, -step),
                "ArrowRight" => (0, step),
                _ => return,
            };
            e.prevent_default();
            cb.emit(Pointing::Key { dy, dx });
        })
    };
    let (w, h) = (props.width, props.height);
    let cross = props.mark.map(|(y, x)| {
        let (top, left, cw, ch) = (pct(y as f64, h), pct(x as f64, w), pct(1.0, w), pct(1.0, h));
        html! { <>
            <div class="xhair xhair-v" style={format!("left:{left};width:{cw}")}></div>
            <div class="xhair xhair-h" style={format!("top:{top};height:{ch}")}></div>
            <div class="xhair-cell" style={format!("left:{left};top:{top};width:{cw};height:{ch}")}></div>
        </> }
    });
    let rect = props.rect.map(|r| {
        let style = format!(
            "left:{};top:{};width:{};height:{}",
            pct(r.left as f64, w),
            pct(r.top as f64, h),
            pct((r.right + 1 - r.left) as f64, w),
            pct((r.bottom + 1 - r.top) as f64, h)
        );
        html! { <div class="field-rect" {style}></div> }
    });
    html! {
        <div class={classes!("pointable", props.class.clone())} tabindex="0" role="application" aria-label={props.label.clone()}
            {onpointermove} {onpointerdown} {onpointerleave} {onkeydown}>
            <RgbaCanvas pixels={props.pixels.clone()} width={w} height={h} class={props.canvas_class.clone()} label={props.label.clone()} />
            { rect.unwrap_or_default() }
            { cross.unwrap_or_default() }
        </div>
    }
}

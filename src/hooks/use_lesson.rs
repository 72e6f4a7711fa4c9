//! The lesson's side effects: a "show me" scrolls to the part of the page it talks about;
//! and the data behind the lesson's numbers (the shown trace's shapes, pool.0's argmax, the
//! decoder stages' upsampled maps, each channel's value range, the comparison's masks) is exposed as
//! `window.__skipscope`, so that the browser tests recompute the numbers from it.

use crate::state::State;
use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use yew::prelude::*;

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

fn expose(state: &State) {
    let root = Object::new();
    set(&root, "variant", &JsValue::from_str(&state.variant.to_string()));
    set(&root, "depth", &JsValue::from(state.depth() as u32));
    let stages = Object::new();
    for s in state.trace().map(|t| t.stages.as_slice()).unwrap_or_default() {
        let o = Object::new();
        let sh = s.planes.shape;
        set(&o, "c", &JsValue::from(sh.channels as u32));
        set(&o, "h", &JsValue::from(sh.height as u32));
        set(&o, "w", &JsValue::from(sh.width as u32));
        set(&o, "level", &JsValue::from(s.level as u32));
        // Each channel's smallest and largest finite value, for the canvases' text
        // alternatives (computed here on their own, not by `alt_text`).
        let n = sh.height * sh.width;
        let (mut lo, mut hi) = (vec![f32::NAN; sh.channels], vec![f32::NAN; sh.channels]);
        for c in 0..sh.channels {
            for &v in s.planes.values[c * n..(c + 1) * n].iter().filter(|v| v.is_finite()) {
                lo[c] = if lo[c].is_nan() { v } else { lo[c].min(v) };
                hi[c] = if hi[c].is_nan() { v } else { hi[c].max(v) };
            }
        }
        set(&o, "min", &Float32Array::from(lo.as_slice()));
        set(&o, "max", &Float32Array::from(hi.as_slice()));
        if let Some(a) = &s.argmax {
            set(&o, "argmax", &Uint8Array::from(a.as_slice()));
        }
        if let Some(p) = &s.parts {
            let up = Object::new();
            set(&up, "c", &JsValue::from(p.upsampled.shape.channels as u32));
            set(&up, "values", &Float32Array::from(p.upsampled.values.as_slice()));
            set(&o, "upsampled", &up);
            set(&o, "skipChannels", &JsValue::from(p.skip.as_ref().map_or(0, |s| s.shape.channels) as u32));
            set(&o, "fusedChannels", &JsValue::from(p.fused.shape.channels as u32));
        }
        set(&stages, &s.name, &o);
    }
    set(&root, "stages", &stages);
    let masks = Object::new();
    for (v, seg) in state.masks.iter() {
        let o = Object::new();
        set(&o, "h", &JsValue::from(seg.mask.height as u32));
        set(&o, "w", &JsValue::from(seg.mask.width as u32));
        set(&o, "classes", &Uint8Array::from(seg.mask.classes.as_slice()));
        set(&masks, &v.to_string(), &o);
    }
    set(&root, "masks", &masks);
    set(&js_sys::global(), "__skipscope", &root);
}

#[hook]
pub fn use_lesson(state: &UseReducerHandle<State>) {
    {
        // Once per finished trace and per new comparison mask, not per streamed stage: the
        // copy into JS is of every stage, so doing it on each stage would repeat it 15 times.
        // Cheap keys: the masks are behind an `Rc`, replaced when they change.
        let key = (std::rc::Rc::as_ptr(&state.masks) as usize, state.variant, state.trace().is_some_and(|t| !t.running()));
        let state = state.clone();
        use_effect_with(key, move |_| expose(&state));
    }
    // Another step is read from its top (on a phone the lesson is a scrolled sheet).
    use_effect_with(state.lesson, |_| {
        if let Ok(Some(el)) = gloo::utils::document().query_selector(".lesson") {
            el.set_scroll_top(0);
        }
    });
    {
        // Once more when the stage shown arrives: the part pointed at may only exist then.
        let key = (state.focus, state.selected.clone(), state.variant, state.selected_stage().is_some(), state.mask().is_some());
        use_effect_with(key, move |(focus, ..)| {
            let Some(f) = focus else { return };
            let selector = format!("[data-focus=\"{}\"]", f.name());
            if let Ok(Some(el)) = gloo::utils::document().query_selector(&selector) {
                el.scroll_into_view_with_bool(true);
            }
        });
    }
}

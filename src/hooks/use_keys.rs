//! The arrow keys step through the stages (not while typing in a field or on a map that
//! moves the pinned position, nor with a modifier).

use crate::state::{Action, State};
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[hook]
pub fn use_keys(dispatcher: UseReducerDispatcher<State>) {
    use_effect_with((), move |_| {
        let keys = EventListener::new(&gloo::utils::document(), "keydown", move |e| {
            let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
            let in_field = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            // A map that moves the pinned position with the arrow keys keeps them.
            let on_map =
                e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| el.class_name().split_whitespace().any(|c| c == "pointable"));
            if in_field || on_map || e.alt_key() || e.ctrl_key() || e.meta_key() {
                return;
            }
            match e.key().as_str() {
                "ArrowLeft" => dispatcher.dispatch(Action::Step(-1)),
                "ArrowRight" => dispatcher.dispatch(Action::Step(1)),
                _ => return,
            }
            e.prevent_default();
        });
        move || drop(keys)
    });
}

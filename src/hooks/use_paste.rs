//! A pasted image is shown like a chosen file, fit for the model shown when it is pasted.

use super::Pictures;
use crate::picture::Fit;
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[hook]
pub fn use_paste(pictures: &Pictures, fit: Fit) {
    // The listener is registered once: it reads the fit of the latest render.
    let fit_now = use_mut_ref(|| fit);
    *fit_now.borrow_mut() = fit;
    let pictures = pictures.clone();
    use_effect_with((), move |_| {
        let paste = EventListener::new(&gloo::utils::document(), "paste", move |e| {
            let Some(e) = e.dyn_ref::<web_sys::ClipboardEvent>() else { return };
            let Some(files) = e.clipboard_data().and_then(|c| c.files()) else { return };
            if let Some(file) = files.get(0) {
                let name = if file.name().is_empty() { "the pasted image".to_string() } else { file.name() };
                pictures.file(file.into(), name, *fit_now.borrow());
            }
        });
        move || drop(paste)
    });
}

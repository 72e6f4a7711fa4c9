//! The comparison: masks of the other skip modes once the shown trace is done
//! ([`State::wanted_segments`]), and the label image that scores them. The label callback
//! stays the same `Callback` while the picture, dataset and classes do, so `Compare` is not
//! drawn again for every streamed stage.

use super::WorkerHandle;
use crate::picture;
use crate::protocol::Request;
use crate::state::{label_void, Action, State};
use std::rc::Rc;
use yew::prelude::*;

/// Runs the comparison; returns the callback for a label image.
#[hook]
pub fn use_compare(state: &UseReducerHandle<State>, worker: &WorkerHandle) -> Callback<web_sys::File> {
    {
        let (picture, d, worker) = (state.picture.clone(), state.dispatcher(), worker.clone());
        use_effect_with((state.picture_serial, state.dataset, state.wanted_segments()), move |(_, dataset, wanted)| {
            let Some(p) = picture else { return };
            for &variant in wanted {
                let serial = worker.serials.next();
                d.dispatch(Action::StartSegment { serial, variant });
                worker.send(Request::Segment { serial, dataset: *dataset, variant, image: p.input.clone() });
            }
        });
    }
    let (d, serials) = (state.dispatcher(), worker.serials.clone());
    use_callback((state.picture.clone(), state.dataset, state.classes()), move |file: web_sys::File, (picture, dataset, classes)| {
        let Some(p) = picture.clone() else { return };
        let (d, name, serial) = (d.clone(), file.name(), serials.next());
        let palette: Vec<[u8; 3]> = classes.iter().map(|c| c.color).collect();
        let void = label_void(*dataset);
        d.dispatch(Action::LabelRequested { serial });
        wasm_bindgen_futures::spawn_local(async move {
            let size = (p.input.valid_height, p.input.valid_width);
            match picture::decode_label(file.into(), name, p.original, size, palette, void).await {
                Ok(label) => d.dispatch(Action::LabelReady { serial, label: Rc::new(label) }),
                Err(message) => d.dispatch(Action::LabelFailed { serial, message }),
            }
        });
    })
}

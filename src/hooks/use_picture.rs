//! The picture: samples and files are fetched and decoded off the reducer, each request
//! under its serial (the state takes only the latest's answer); the file behind every
//! decoded picture is kept, so that the shown one can be fit again when the shown model
//! wants another size (another dataset's model) or padding multiple (another depth).

use super::Serials;
use crate::fetch;
use crate::picture::{self, Fit};
use crate::samples;
use crate::state::{Action, State};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// A file to show: its bytes, name and sample id.
#[derive(Clone)]
struct Source {
    blob: web_sys::Blob,
    name: String,
    sample: Option<String>,
}

/// Starts picture requests.
#[derive(Clone)]
pub struct Pictures {
    dispatcher: UseReducerDispatcher<State>,
    serials: Serials,
    /// The files of the pictures decoded, by serial; those older than the shown picture are
    /// dropped (no answer older than the shown one is ever taken).
    sources: Rc<RefCell<BTreeMap<u32, Source>>>,
}

impl Pictures {
    /// Starts a request and returns its serial. A refit keeps the request-to-mask clock of
    /// whatever caused it.
    fn request(&self, name: String, sample: Option<String>, refit: bool) -> u32 {
        let serial = self.serials.next();
        self.dispatcher.dispatch(Action::PictureRequested { serial, name, sample, at_ms: crate::now_ms(), refit });
        serial
    }

    /// Decodes `source` for request `serial` and reports the picture or why it was refused.
    /// `refit` names the shown picture being fit again: if that fails, it is not retried.
    fn decode(&self, serial: u32, source: Source, to: Fit, refit: Option<u32>) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match picture::decode(source.blob.clone(), source.name.clone(), to).await {
                Ok(picture) => {
                    crate::mark("page: picture decoded");
                    let sample = source.sample.clone();
                    this.sources.borrow_mut().insert(serial, source);
                    this.dispatcher.dispatch(Action::PictureReady { serial, picture, sample })
                }
                Err(message) => {
                    if let Some(shown) = refit {
                        this.sources.borrow_mut().remove(&shown);
                    }
                    this.dispatcher.dispatch(Action::PictureFailed { serial, message })
                }
            }
        });
    }

    /// Shows a file the user chose, dropped or pasted.
    pub fn file(&self, blob: web_sys::Blob, name: String, to: Fit) {
        let serial = self.request(name.clone(), None, false);
        self.decode(serial, Source { blob, name, sample: None }, to, None);
    }

    /// Shows the built-in sample `id`.
    pub fn sample(&self, id: String, to: Fit) {
        let serial = self.request(id.clone(), Some(id.clone()), false);
        let url = samples::url(&id);
        let this = self.clone();
        let done = Callback::from(move |r: Result<Vec<u8>, String>| {
            match r.and_then(|b| {
                crate::mark("page: sample fetched");
                bytes_to_blob(&b)
            }) {
                Ok(blob) => this.decode(serial, Source { blob, name: id.clone(), sample: Some(id.clone()) }, to, None),
                Err(message) => this.dispatcher.dispatch(Action::PictureFailed { serial, message }),
            }
        });
        fetch::get_bytes(&url, None, done);
    }
}

fn bytes_to_blob(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| format!("{e:?}"))
}

/// Shows `first_sample` (the URL's, if the dataset offers it, else the dataset's first) on
/// mount, and fits the shown picture again whenever the state asks ([`State::needs_refit`]).
#[hook]
pub fn use_picture(state: &UseReducerHandle<State>, serials: &Serials, first_sample: Option<String>) -> Pictures {
    let sources = use_mut_ref(BTreeMap::new);
    let pictures = Pictures { dispatcher: state.dispatcher(), serials: serials.clone(), sources };
    {
        let id = samples::opening(state.dataset, first_sample.as_deref()).to_string();
        let (pictures, to) = (pictures.clone(), state.fit());
        use_effect_with((), move |_| pictures.sample(id, to));
    }
    {
        let sources = pictures.sources.clone();
        use_effect_with(state.picture_serial, move |shown| sources.borrow_mut().retain(|serial, _| serial >= shown));
    }
    {
        let (pictures, shown) = (pictures.clone(), state.picture_serial);
        use_effect_with((state.fit(), state.needs_refit()), move |(to, refit)| {
            let source = pictures.sources.borrow().get(&shown).cloned();
            if let (true, Some(source)) = (*refit, source) {
                let serial = pictures.request(source.name.clone(), source.sample.clone(), true);
                pictures.decode(serial, source, *to, Some(shown));
            }
        });
    }
    pictures
}

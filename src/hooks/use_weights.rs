//! The manifest (on mount), then the weights the shown variant wants (its own, then the
//! other skip modes at its upsampling, each once), handed to the worker.

use super::WorkerHandle;
use crate::fetch;
use crate::manifest;
use crate::protocol::Request;
use crate::state::{Action, State};
use yew::prelude::*;

#[hook]
pub fn use_weights(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    {
        let d = state.dispatcher();
        use_effect_with((), move |_| {
            let done = Callback::from(move |r: Result<Vec<u8>, String>| d.dispatch(Action::CatalogLoaded(r.and_then(|b| manifest::parse(&b)))));
            fetch::get_bytes("models/manifest.json", None, done);
        });
    }
    // Once a download starts, the state lists it, so the next render wants one fewer.
    let dataset = state.dataset;
    let wanted: Vec<_> = state.wanted_weights().into_iter().map(|(v, e)| (v, e.file.clone(), e.bytes)).collect();
    let (d, worker) = (state.dispatcher(), worker.clone());
    use_effect_with((dataset, wanted), move |(dataset, wanted)| {
        let dataset = *dataset;
        for (variant, file, bytes) in wanted.iter().cloned() {
            d.dispatch(Action::FetchProgress { dataset, variant, loaded: 0.0, total: Some(bytes as f64) });
            let progress = {
                let d = d.clone();
                Callback::from(move |(loaded, total): fetch::Progress| d.dispatch(Action::FetchProgress { dataset, variant, loaded, total }))
            };
            let (d, worker) = (d.clone(), worker.clone());
            let done = Callback::from(move |r: Result<Vec<u8>, String>| match r {
                Ok(bytes) => {
                    let serial = worker.serials.next();
                    d.dispatch(Action::FetchDone { dataset, variant, serial });
                    worker.send(Request::Load { serial, dataset, variant, bytes });
                }
                Err(message) => d.dispatch(Action::FetchFailed { dataset, variant, message }),
            });
            fetch::get_bytes(&format!("models/{file}"), Some(progress), done);
        }
    });
}

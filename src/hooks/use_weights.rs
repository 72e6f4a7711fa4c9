//! The manifest (on mount), then the weights the shown variant wants (its own, then the
//! other skip modes at its upsampling, each once), handed to the worker. Weights come from
//! their download if `bin/app.rs` started it before the first render ([`fetch::prefetch`]),
//! else from Cache Storage when a verified copy is kept there ([`crate::offline`]), else
//! from the network; either way they are taken only if their length and SHA-256 are the manifest's
//! (a damaged kept copy is forgotten and downloaded again; a damaged download fails with the
//! reason, and [`Action::RetryWeights`] asks for it again). Downloads that verify are kept.

use super::WorkerHandle;
use crate::fetch;
use crate::manifest::{self, ManifestEntry};
use crate::offline;
use crate::protocol::{Dataset, Request, Variant};
use crate::state::{Action, State};
use yew::prelude::*;

/// Takes verified weights: the state hears they are in, the workers get them (the shown
/// variant's at once; the others' in the background, so that the mask worker computes the
/// shown mask before it loads them: [`WorkerHandle::send_background`]).
fn hand_over(d: &UseReducerDispatcher<State>, worker: &WorkerHandle, dataset: Dataset, variant: Variant, shown: bool, bytes: Vec<u8>) {
    let serial = worker.serials.next();
    d.dispatch(Action::FetchDone { dataset, variant, serial });
    let load = Request::Load { serial, dataset, variant, bytes };
    if shown {
        worker.send(load)
    } else {
        worker.send_background(load)
    }
}

/// Downloads `entry`'s weights, verifies them and hands them over; a download that fails
/// fails the weights, unless `kept_copy_unchecked` (its Cache Storage lookup was skipped
/// for a prefetch) and a verified copy is kept there (a page opened offline).
fn download(
    d: UseReducerDispatcher<State>,
    worker: WorkerHandle,
    dataset: Dataset,
    variant: Variant,
    shown: bool,
    entry: ManifestEntry,
    kept_copy_unchecked: bool,
) {
    let url = manifest::weights_url(&entry);
    d.dispatch(Action::FetchProgress { dataset, variant, loaded: 0.0, total: Some(entry.bytes as f64) });
    let progress = {
        let d = d.clone();
        Callback::from(move |(loaded, total): fetch::Progress| d.dispatch(Action::FetchProgress { dataset, variant, loaded, total }))
    };
    let kept_url = url.clone();
    let done = Callback::from(move |r: Result<Vec<u8>, String>| {
        let (d, worker, entry, url) = (d.clone(), worker.clone(), entry.clone(), kept_url.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let checked = match r {
                Ok(bytes) => {
                    crate::mark(&format!("page: weights {variant} fetched"));
                    offline::verify(&entry, &bytes).await.map(|()| bytes)
                }
                Err(e) => Err(e),
            };
            match checked {
                Ok(bytes) => {
                    crate::mark(&format!("page: weights {variant} verified"));
                    let kept = bytes.clone();
                    wasm_bindgen_futures::spawn_local(async move { offline::put(&url, &kept).await });
                    hand_over(&d, &worker, dataset, variant, shown, bytes);
                }
                Err(message) => {
                    let kept = if kept_copy_unchecked { kept_copy(&url, &entry).await } else { None };
                    match kept {
                        Some(bytes) => hand_over(&d, &worker, dataset, variant, shown, bytes),
                        None => d.dispatch(Action::FetchFailed { dataset, variant, message }),
                    }
                }
            }
        });
    });
    fetch::get_bytes(&url, Some(progress), done);
}

/// The copy of `url` kept in Cache Storage, if it verifies against `entry`.
async fn kept_copy(url: &str, entry: &ManifestEntry) -> Option<Vec<u8>> {
    let bytes = offline::get(url).await?;
    offline::verify(entry, &bytes).await.ok().map(|()| bytes)
}

#[hook]
pub fn use_weights(state: &UseReducerHandle<State>, worker: &WorkerHandle) {
    {
        let d = state.dispatcher();
        use_effect_with((), move |_| {
            let done = Callback::from(move |r: Result<Vec<u8>, String>| {
                crate::mark("page: manifest fetched");
                d.dispatch(Action::CatalogLoaded(r.and_then(|b| manifest::parse(&b))))
            });
            fetch::get_bytes(manifest::URL, None, done);
        });
    }
    // Once a download starts, the state lists it, so the next render wants one fewer.
    let (dataset, shown) = (state.dataset, state.variant);
    let wanted: Vec<_> = state.wanted_weights().into_iter().map(|(v, e)| (v, e.clone())).collect();
    let (d, worker) = (state.dispatcher(), worker.clone());
    use_effect_with((dataset, wanted), move |(dataset, wanted)| {
        let dataset = *dataset;
        for (variant, entry) in wanted.iter().cloned() {
            // Listed at once, so that the next render does not want it again.
            d.dispatch(Action::FetchProgress { dataset, variant, loaded: 0.0, total: Some(entry.bytes as f64) });
            let (d, worker, shown) = (d.clone(), worker.clone(), variant == shown);
            wasm_bindgen_futures::spawn_local(async move {
                let url = manifest::weights_url(&entry);
                crate::mark(&format!("page: weights {variant} wanted"));
                // A prefetched download is on its way already: its kept copy is looked for
                // only if it fails (opening Cache Storage on a cold page takes tens of
                // milliseconds).
                let prefetched = fetch::prefetched(&url);
                let kept = if prefetched { None } else { offline::get(&url).await };
                let good = match &kept {
                    Some(bytes) => offline::verify(&entry, bytes).await.is_ok(),
                    None => false,
                };
                match kept {
                    Some(bytes) if good => hand_over(&d, &worker, dataset, variant, shown, bytes),
                    kept => {
                        if kept.is_some() {
                            offline::delete(&url).await;
                        }
                        download(d, worker, dataset, variant, shown, entry, prefetched);
                    }
                }
            });
        }
    });
}

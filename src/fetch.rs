//! Downloads with progress, through `XMLHttpRequest` (fetch has no upload-free progress
//! event). Each callback fires on the page's thread; `on_done` fires exactly once.
//! [`prefetch`] starts a download before anything asks for it (the page's first files,
//! before its first render); the first [`get_bytes`] of that URL then takes it over.

use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};
use yew::Callback;

/// Bytes received so far and the total when the server sent a length.
pub type Progress = (f64, Option<f64>);

type Done = Callback<Result<Vec<u8>, String>>;

/// A download started by [`prefetch`] that no [`get_bytes`] has taken yet.
enum Ahead {
    /// Under way; the callbacks of the `get_bytes` that took it, once one has.
    Running { on_progress: Option<Callback<Progress>>, on_done: Option<Done> },
    /// Finished before anyone asked: its result, until asked for or [`KEPT_MS`] pass.
    Finished(Result<Vec<u8>, String>),
}

/// How long a finished download nobody asked for is kept (a page that wanted other files).
const KEPT_MS: u32 = 30_000;

thread_local! {
    static AHEAD: RefCell<HashMap<String, Ahead>> = RefCell::new(HashMap::new());
}

/// Starts GETting `url` now, for a later [`get_bytes`] of the same URL.
pub fn prefetch(url: &str) {
    let key = url.to_string();
    AHEAD.with(|a| a.borrow_mut().insert(key.clone(), Ahead::Running { on_progress: None, on_done: None }));
    let progress_key = key.clone();
    let on_progress = Callback::from(move |p: Progress| {
        let taker = AHEAD.with(|a| match a.borrow().get(&progress_key) {
            Some(Ahead::Running { on_progress, .. }) => on_progress.clone(),
            _ => None,
        });
        if let Some(taker) = taker {
            taker.emit(p);
        }
    });
    let on_done = Callback::from(move |result: Result<Vec<u8>, String>| {
        let taker = AHEAD.with(|a| {
            let mut a = a.borrow_mut();
            match a.remove(&key) {
                Some(Ahead::Running { on_done: Some(on_done), .. }) => Some((on_done, result)),
                _ => {
                    a.insert(key.clone(), Ahead::Finished(result));
                    let key = key.clone();
                    gloo::timers::callback::Timeout::new(KEPT_MS, move || drop(AHEAD.with(|a| a.borrow_mut().remove(&key)))).forget();
                    None
                }
            }
        });
        if let Some((on_done, result)) = taker {
            on_done.emit(result);
        }
    });
    get_bytes_now(url, Some(on_progress), on_done);
}

/// Whether `url` was prefetched, not taken yet and not failed: a [`get_bytes`] of it costs
/// no new download (it may still fail if it is under way).
pub fn prefetched(url: &str) -> bool {
    AHEAD.with(|a| matches!(a.borrow().get(url), Some(Ahead::Finished(Ok(_)) | Ahead::Running { on_done: None, .. })))
}

/// GETs `url`, or takes over its [`prefetch`]. `on_progress` fires as bytes arrive;
/// `on_done` gets the body of a 200 answer, or a message for any other status or a network
/// error.
pub fn get_bytes(url: &str, on_progress: Option<Callback<Progress>>, on_done: Done) {
    enum Taken {
        Finished(Result<Vec<u8>, String>),
        Running,
        Nothing,
    }
    let taken = AHEAD.with(|a| {
        let mut a = a.borrow_mut();
        match a.remove(url) {
            Some(Ahead::Finished(result)) => Taken::Finished(result),
            Some(Ahead::Running { on_done: None, .. }) => {
                a.insert(url.to_string(), Ahead::Running { on_progress: on_progress.clone(), on_done: Some(on_done.clone()) });
                Taken::Running
            }
            // Taken already by an earlier request: it stays theirs, and this one downloads.
            Some(taken) => {
                a.insert(url.to_string(), taken);
                Taken::Nothing
            }
            None => Taken::Nothing,
        }
    });
    match taken {
        Taken::Finished(result) => wasm_bindgen_futures::spawn_local(async move { on_done.emit(result) }),
        Taken::Running => {}
        Taken::Nothing => get_bytes_now(url, on_progress, on_done),
    }
}

fn get_bytes_now(url: &str, on_progress: Option<Callback<Progress>>, on_done: Done) {
    if let Err(e) = start(url, on_progress, on_done.clone()) {
        on_done.emit(Err(format!("could not request {url}: {e:?}")));
    }
}

fn start(url: &str, on_progress: Option<Callback<Progress>>, on_done: Callback<Result<Vec<u8>, String>>) -> Result<(), wasm_bindgen::JsValue> {
    let xhr = XmlHttpRequest::new()?;
    xhr.open("GET", url)?;
    xhr.set_response_type(XmlHttpRequestResponseType::Arraybuffer);
    if let Some(on_progress) = on_progress {
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            on_progress.emit((e.loaded(), e.length_computable().then(|| e.total())));
        });
        xhr.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        // One small closure per download, kept for the page's lifetime.
        progress.forget();
    }
    let done = xhr.clone();
    let url = url.to_string();
    // `loadend` follows `load`, `error` and `abort` alike, exactly once.
    let loadend = Closure::once_into_js(move |_: ProgressEvent| {
        let status = done.status().unwrap_or(0);
        let result = match (status, done.response()) {
            (200, Ok(body)) if body.is_instance_of::<js_sys::ArrayBuffer>() => Ok(js_sys::Uint8Array::new(&body).to_vec()),
            (0, _) => Err(format!("{url}: network error")),
            (status, _) => Err(format!("{url}: HTTP {status}")),
        };
        on_done.emit(result);
    });
    xhr.set_onloadend(Some(loadend.unchecked_ref()));
    xhr.send()
}

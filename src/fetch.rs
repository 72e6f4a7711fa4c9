//! Downloads with progress, through `XMLHttpRequest` (fetch has no upload-free progress
//! event). Each callback fires on the page's thread; `on_done` fires exactly once.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};
use yew::Callback;

/// Bytes received so far and the total when the server sent a length.
pub type Progress = (f64, Option<f64>);

/// GETs `url`. `on_progress` fires as bytes arrive; `on_done` gets the body of a 200
/// answer, or a message for any other status or a network error.
pub fn get_bytes(url: &str, on_progress: Option<Callback<Progress>>, on_done: Callback<Result<Vec<u8>, String>>) {
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

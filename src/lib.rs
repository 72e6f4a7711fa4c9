//! SkipScope's web app: a Yew page (bin `app`) and the Web Worker that runs the engine
//! (bin `worker`). The bins are thin; everything they run lives here.
//!
//! - [`protocol`]: the serde messages between the page and the worker.
//! - [`trace`]: what the worker computes (model, synthetic input, stage summaries); no web
//!   dependency beyond the clock it is given.
//! - [`worker`]: the `gloo_worker::Worker` that answers [`protocol::Request`]s.
//! - [`state`]: the page's one reducer (`State`, `Action`).
//! - [`app`] and [`components`]: the page.

pub mod app;
pub mod components;
pub mod protocol;
pub mod state;
pub mod trace;
pub mod worker;

use wasm_bindgen::JsCast;

/// A monotonic clock in milliseconds: `performance.now()` in a window or a worker,
/// `Date.now()` where neither is available.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        if let Some(p) = window.performance() {
            return p.now();
        }
    }
    if let Some(scope) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        if let Some(p) = scope.performance() {
            return p.now();
        }
    }
    js_sys::Date::now()
}

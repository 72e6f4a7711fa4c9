//! SkipScope's web app: a Yew page (bin `app`) and the Web Worker that runs the engine
//! (bin `worker`). The bins are thin; everything they run lives here.
//!
//! - [`protocol`]: the serde messages between the page and the worker.
//! - [`trace`]: what the worker computes (models per variant, traces, masks); no web
//!   dependency beyond the clock it is given.
//! - [`worker`]: the `gloo_worker::Worker` that answers [`protocol::Request`]s.
//! - [`state`]: the page's one reducer (`State`, `Action`), pure, and the view data it
//!   derives.
//! - [`hooks`]: the page's side effects, one hook each (worker, weights, picture, trace,
//!   comparison, URL, keys, paste).
//! - [`manifest`], [`samples`], [`fetch`], [`sniff`], [`picture`], [`url`], [`colormap`], [`masks`]:
//!   what the page reads and draws.
//! - [`offline`]: weights kept in Cache Storage, the service worker that keeps the app.
//! - [`lesson`]: the guided lesson's steps, their text and numbers, from the state (pure).
//! - [`alt_text`]: the text alternatives of the canvases (stage, shape, value range; a mask's variant and classes), pure.
//! - [`camera`]: the live camera's state (frames, masks, frames per second), pure.
//! - [`position`], [`closeup`], [`ablation`]: "look closer" (one position through every
//!   resolution, each operation's numbers there, a skip switched off), pure.
//! - [`app`] and [`components`]: the page.
//! - [`learn`]: the "train it yourself" view (`?learn=1`) and its workers (bin `learn_worker`).

pub mod ablation;
pub mod alt_text;
pub mod app;
pub mod camera;
pub mod closeup;
pub mod colormap;
pub mod components;
pub mod features;
pub mod fetch;
pub mod hooks;
pub mod learn;
pub mod lesson;
pub mod manifest;
pub mod masks;
pub mod offline;
pub mod picture;
pub mod position;
pub mod protocol;
pub mod samples;
pub mod sniff;
pub mod state;
pub mod trace;
pub mod url;
pub mod worker;

use std::ops::Deref;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// A shared value compared by identity, so that props holding large maps compare in O(1).
#[derive(Debug)]
pub struct Shared<T>(pub Rc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A `performance.mark(name)` in a window or a worker (nothing where neither has one): the
/// steps between a click and its mask, and of the cold load, in a browser trace
/// (`docs/bench/page-profile.md`). Cheap: a mark is one timestamp.
pub fn mark(name: &str) {
    let global = js_sys::global();
    let performance = if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.performance()
    } else {
        global.dyn_ref::<web_sys::WorkerGlobalScope>().and_then(|scope| scope.performance())
    };
    if let Some(p) = performance {
        let _ = p.mark(name);
    }
}

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

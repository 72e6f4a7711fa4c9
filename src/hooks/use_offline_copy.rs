//! The offline copy: the service worker is registered once the page has shown its first
//! mask, or [`FALLBACK_MS`] after the page's first render if none came. Its install downloads
//! the app, the workers and the samples again (a few MB), which on a cold load competed with
//! the first mask for the network, the cores and the start of the mask worker.

use crate::offline;
use crate::state::State;
use std::cell::Cell;
use std::rc::Rc;
use yew::prelude::*;

/// How long the page waits, from its first render, for a first mask before it registers the
/// service worker anyway.
pub const FALLBACK_MS: u32 = 8_000;

#[hook]
pub fn use_offline_copy(state: &UseReducerHandle<State>) {
    let registered = use_memo((), |_| Rc::new(Cell::new(false)));
    let register = {
        let registered = (*registered).clone();
        move || {
            if !registered.replace(true) {
                offline::register_service_worker();
            }
        }
    };
    {
        let register = register.clone();
        use_effect_with((), move |_| {
            let timer = gloo::timers::callback::Timeout::new(FALLBACK_MS, register);
            move || drop(timer)
        });
    }
    let shown = state.mask().is_some();
    use_effect_with(shown, move |shown| {
        if *shown {
            register();
        }
    });
}

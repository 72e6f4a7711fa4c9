//! Once the shown trace is done, its stages are coloured ahead, one stage per idle turn of
//! the page's thread ([`colour_ahead`]), so that switching stages only draws.

use crate::components::heatmap::colour_ahead;
use crate::state::State;
use std::cell::Cell;
use std::rc::Rc;
use yew::prelude::*;

/// Colours `stages` from the next one on, each in its own task (so that a click or an
/// answer waits for one stage's colouring at most), until `stop` is set.
fn colour_from(mut stages: std::vec::IntoIter<crate::Shared<crate::protocol::StageData>>, stop: Rc<Cell<bool>>) {
    gloo::timers::callback::Timeout::new(0, move || {
        if stop.get() {
            return;
        }
        if let Some(stage) = stages.next() {
            colour_ahead(&stage);
            colour_from(stages, stop);
        }
    })
    .forget();
}

#[hook]
pub fn use_colour_ahead(state: &UseReducerHandle<State>) {
    let done = state.trace().filter(|t| !t.running() && t.error.is_none()).map(|t| (t.serial, t.stages.clone()));
    use_effect_with(done.as_ref().map(|(serial, _)| *serial), move |_| {
        let stop = Rc::new(Cell::new(false));
        if let Some((_, stages)) = done {
            // The stage shown first was coloured as it arrived.
            colour_from(stages.into_iter(), stop.clone());
        }
        move || stop.set(true)
    });
}

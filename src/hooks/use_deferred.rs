//! A value shown one task late.

use yew::prelude::*;

/// `value`, except right after it changes: then the value it had, and the new one in a
/// task of its own just after (a 0 ms timer; a newer change cancels it). For a costly part
/// of the page that must not delay what the same change shows elsewhere: the comparison's
/// canvases after a new mask, which the shown mask is drawn and painted before.
#[hook]
pub fn use_deferred<T>(value: T) -> T
where
    T: Clone + PartialEq + 'static,
{
    let shown = use_state_eq(|| value.clone());
    {
        let shown = shown.clone();
        use_effect_with(value, move |value| {
            let value = value.clone();
            let timer = gloo::timers::callback::Timeout::new(0, move || shown.set(value));
            move || drop(timer)
        });
    }
    (*shown).clone()
}

use crate::protocol::Variant;
use crate::state::{Availability, ENGINE_STOPPED};
use skipscope_engine::{Skip, Upsample};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub variant: Variant,
    /// The availability of every variant.
    pub availability: Vec<(Variant, Availability)>,
    pub on_change: Callback<Variant>,
}

fn describe(a: &Availability) -> &'static str {
    match a {
        Availability::Trained => "trained weights",
        Availability::Random => "random weights",
        Availability::Pending => "weights downloading",
        Availability::Unavailable(_) => "no weights",
        Availability::Stopped => ENGINE_STOPPED,
    }
}

/// Whether a toggle may lead to a variant: it has or will have weights (pending counts).
fn selectable(a: &Availability) -> bool {
    !matches!(a, Availability::Unavailable(_) | Availability::Stopped)
}

/// Two button groups: skip none / add / concat and upsampling unpool / transposed /
/// bilinear. A choice leads to its variant with the other group's current choice, or, when
/// that has no weights, to the first variant of that choice that has; a choice without any
/// is disabled and its title says why. `data-variant` names where a button leads.
#[function_component]
pub fn Toggles(props: &Props) -> Html {
    let find = |v: Variant| props.availability.iter().find(|(w, _)| *w == v).map(|(_, a)| a.clone()).unwrap_or(Availability::Pending);
    let button = |target: Variant, label: &'static str, pressed: bool| {
        let a = find(target);
        let disabled = !selectable(&a);
        let title = match &a {
            Availability::Unavailable(why) => why.clone(),
            Availability::Stopped => ENGINE_STOPPED.into(),
            other => format!("{target}: {}", describe(other)),
        };
        let onclick = props.on_change.reform(move |_| target);
        html! {
            <button class={classes!("toggle", pressed.then_some("on"))} aria-pressed={pressed.to_string()} {disabled} {title} {onclick}
                data-variant={target.to_string()}>
                { label }
                if matches!(a, Availability::Unavailable(_)) { <small>{ " (no weights)" }</small> }
            </button>
        }
    };
    let v = props.variant;
    // The variant a choice leads to: with the other group's current choice, or else with
    // the first choice of the other group that has weights.
    let runnable = |w: Variant| selectable(&find(w));
    let via_skip = |s: Skip| {
        Some(v.with_skip(s))
            .filter(|w| runnable(*w))
            .or_else(|| Upsample::ALL.into_iter().map(|u| Variant::new(u, s)).find(|w| runnable(*w)))
            .unwrap_or(v.with_skip(s))
    };
    let via_upsample = |u: Upsample| {
        Some(v.with_upsample(u))
            .filter(|w| runnable(*w))
            .or_else(|| Skip::ALL.into_iter().map(|s| Variant::new(u, s)).find(|w| runnable(*w)))
            .unwrap_or(v.with_upsample(u))
    };
    html! {
        <div class="toggles">
            <p class="hint toggles-hint">
                { "Upsampling is how each decoder stage doubles the resolution; the skip is what it adds from the encoder. They are not alternatives: every decoder stage upsamples and then fuses its skip (none, add as in FCN, or concat as in U-Net)." }
            </p>
            <div role="group" aria-label="skip connection">
                <span class="group-label">{ "Skip" }</span>
                { for Skip::ALL.into_iter().map(|s| button(via_skip(s), s.name(), v.skip == s)) }
            </div>
            <div role="group" aria-label="upsampling">
                <span class="group-label">{ "Upsampling" }</span>
                { for Upsample::ALL.into_iter().map(|u| button(via_upsample(u), u.name(), v.upsample == u)) }
            </div>
        </div>
    }
}

use skipscope_engine::stage_names;
use std::collections::HashSet;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub depth: usize,
    pub selected: AttrValue,
    /// Stages computed so far.
    pub ready: HashSet<String>,
    pub on_select: Callback<String>,
    /// -1: previous, +1: next.
    pub on_step: Callback<i32>,
}

/// Every stage in network order, from the input to the mask, with previous / next buttons
/// (the arrow keys do the same anywhere on the page).
#[function_component]
pub fn StageStrip(props: &Props) -> Html {
    let names = stage_names(props.depth);
    let i = names.iter().position(|n| *n == props.selected.as_str()).unwrap_or(0);
    let items = names.iter().map(|n| {
        let selected = *n == props.selected.as_str();
        let onclick = {
            let (cb, n) = (props.on_select.clone(), n.clone());
            Callback::from(move |_| cb.emit(n.clone()))
        };
        html! {
            <li key={n.clone()}>
                <button class={classes!("stage-btn", selected.then_some("selected"), (!props.ready.contains(n)).then_some("pending"))}
                    aria-current={selected.then_some("step")} {onclick}>{ n.clone() }</button>
            </li>
        }
    });
    html! {
        <nav class="strip" aria-label="stages">
            <button class="step" onclick={props.on_step.reform(|_| -1)} disabled={i == 0} aria-label="previous stage">{ "◀ prev" }</button>
            <ol>{ for items }</ol>
            <button class="step" onclick={props.on_step.reform(|_| 1)} disabled={i + 1 == names.len()} aria-label="next stage">{ "next ▶" }</button>
            <span class="hint">{ format!("{} / {} · ← → keys", i + 1, names.len()) }</span>
        </nav>
    }
}

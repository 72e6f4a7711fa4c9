use crate::lesson::{Piece, Show, Step, STEPS, TITLES};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The step shown (from 0), or none when the lesson is closed.
    pub index: Option<usize>,
    pub step: Step,
    /// The first "show me" of each step, to go there (none where a step has none).
    pub first_shows: Vec<Option<Show>>,
    pub on_step: Callback<Option<usize>>,
    pub on_show: Callback<Show>,
}

/// The guided lesson beside the tool: a step's text with its numbers, its "show me" buttons,
/// and the way to the other steps. Going to a step also does its first "show me"; closing
/// it leaves the tool as it is.
#[function_component]
pub fn Lesson(props: &Props) -> Html {
    let go = |i: usize| {
        let (on_step, on_show, show) = (props.on_step.clone(), props.on_show.clone(), props.first_shows.get(i).cloned().flatten());
        Callback::from(move |_: MouseEvent| {
            on_step.emit(Some(i));
            if let Some(s) = show.clone() {
                on_show.emit(s);
            }
        })
    };
    let Some(i) = props.index else {
        let open = props.on_step.reform(|_: MouseEvent| Some(0));
        return html! {
            <aside class="lesson closed" aria-label="lesson">
                <button class="open-lesson" onclick={open} title="how the skip relates to unpooling and transposed convolution, in seven steps">{ "Open the lesson" }</button>
            </aside>
        };
    };
    let close = props.on_step.reform(|_: MouseEvent| None);
    let dots = (0..STEPS).map(|j| {
        let current = i == j;
        html! {
            <li key={j}>
                <button class={classes!("dot", current.then_some("on"))} aria-current={current.then_some("step")} title={TITLES[j]}
                    aria-label={format!("step {}: {}", j + 1, TITLES[j])} onclick={go(j)}>{ j + 1 }</button>
            </li>
        }
    });
    let paragraphs = props.step.paragraphs.iter().map(|p| {
        let pieces = p.iter().map(|piece| match piece {
            Piece::Text(s) => html! { { s.clone() } },
            Piece::Num { key, value, text } => html! { <b class="num" data-key={*key} data-value={value.to_string()}>{ text.clone() }</b> },
            Piece::Pending(what) => html! { <span class="pending-num" title={format!("waiting for {what}")}>{ "…" }</span> },
        });
        html! { <p>{ for pieces }</p> }
    });
    let shows = props.step.shows.iter().map(|s| {
        let (cb, s2) = (props.on_show.clone(), s.clone());
        html! { <button class="show-me" data-stage={s.stage.clone()} data-variant={s.variant.to_string()} data-focus={s.focus.name()}
        onclick={Callback::from(move |_: MouseEvent| cb.emit(s2.clone()))}>{ s.label.clone() }</button> }
    });
    html! {
        <aside class="lesson" aria-label="lesson" data-step={(i + 1).to_string()}>
            <div class="lesson-head">
                <strong>{ format!("Lesson · step {} of {STEPS}", i + 1) }</strong>
                <button class="small" onclick={close} aria-label="close the lesson">{ "close" }</button>
            </div>
            <ol class="dots" aria-label="lesson steps">{ for dots }</ol>
            <h2 class="lesson-title">{ props.step.title }</h2>
            <div class="lesson-text">{ for paragraphs }</div>
            <div class="shows">{ for shows }</div>
            <div class="lesson-nav">
                <button class="prev" disabled={i == 0} onclick={go(i.saturating_sub(1))}>{ "← previous step" }</button>
                <button class="next" disabled={i + 1 == STEPS} onclick={go((i + 1).min(STEPS - 1))}>{ "next step →" }</button>
            </div>
        </aside>
    }
}

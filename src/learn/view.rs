//! The "train it yourself" view: settings, controls, the loss chart, the held-out example
//! beside its true label, and per model its mask and scores. Only lays out what the state
//! holds and dispatches actions.

use super::chart::LossChart;
use super::hook::use_learn;
use super::session::HELD_OUT;
use super::settings::{self, Settings, BATCH, DEPTH, MAX_SEED, RATES, SIZES, SKIPS, WIDTH};
use super::state::{Example, LearnAction, LearnState, ModelRun, Status, RECENT};
use crate::components::RgbaCanvas;
use crate::protocol::Mask;
use crate::Shared;
use skipscope_engine::synthetic::{Task, BLOB, THIN};
use skipscope_engine::{Skip, Upsample};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The class colours of masks and labels: background, blob, thin structure.
const COLOURS: [[u8; 3]; 3] = [[30, 35, 41], [56, 189, 248], [250, 204, 21]];
/// The classes' names, in the order of [`COLOURS`], for the maps' text alternatives.
const CLASS_NAMES: [&str; 3] = ["background", "blob", "thin structure"];

/// RGBA of a class map.
fn colour(classes: &[u8]) -> Vec<u8> {
    classes.iter().flat_map(|&c| COLOURS.get(c as usize).copied().unwrap_or([255, 0, 255]).into_iter().chain([255])).collect()
}

fn rgba(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks(3).flat_map(|p| p.iter().copied().chain([255])).collect()
}

fn skip_class(skip: Skip) -> &'static str {
    match skip {
        Skip::None => "skip-none",
        Skip::Add => "skip-add",
        Skip::Concat => "skip-concat",
    }
}

fn skip_title(skip: Skip) -> &'static str {
    match skip {
        Skip::None => "none: no skip",
        Skip::Add => "add: FCN's skip",
        Skip::Concat => "concat: U-Net's skip",
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or("no such pixels".into(), |v| format!("{:.0}%", v * 100.0))
}

#[derive(Properties, PartialEq)]
struct ClassMapProps {
    classes: Shared<Vec<u8>>,
    size: usize,
    /// What the map is and whose (the text alternative's start, `alt_text::mask`'s `what`
    /// and `variant`); the size and the classes' shares follow.
    what: AttrValue,
    variant: AttrValue,
}

/// A class map drawn in the view's colours; coloured again only when the map changes.
#[function_component]
fn ClassMap(props: &ClassMapProps) -> Html {
    let pixels = use_memo(props.classes.clone(), |c| Shared(Rc::new(colour(c))));
    let label = use_memo((props.classes.clone(), props.size, props.what.clone(), props.variant.clone()), |(classes, size, what, variant)| {
        let mask = Mask { height: *size, width: *size, classes: classes.to_vec() };
        crate::alt_text::mask(what, variant, &mask, &CLASS_NAMES)
    });
    html! { <RgbaCanvas pixels={(*pixels).clone()} width={props.size} height={props.size} class="learn-map" label={(*label).clone()} /> }
}

#[derive(Properties, PartialEq)]
struct ExampleProps {
    example: Shared<Example>,
}

#[function_component]
fn ExampleView(props: &ExampleProps) -> Html {
    let e = &props.example;
    let pixels = use_memo(e.clone(), |e| Shared(Rc::new(rgba(&e.rgb))));
    let label = use_memo(e.clone(), |e| Shared(Rc::new(e.label.clone())));
    html! {
        <section class="learn-card learn-example">
            <h3>{ "held-out example" }</h3>
            <div class="maps">
                <figure>
                    <RgbaCanvas pixels={(*pixels).clone()} width={e.size} height={e.size} class="learn-map" label={crate::alt_text::photo("the held-out image", e.size, e.size)} />
                    <figcaption>{ "image" }</figcaption>
                </figure>
                <figure>
                    <ClassMap classes={(*label).clone()} size={e.size} what="the held-out image's label" variant="true label" />
                    <figcaption>{ "true label" }</figcaption>
                </figure>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ModelProps {
    skip: Skip,
    run: ModelRun,
    size: usize,
    upsample: Upsample,
}

#[function_component]
fn ModelCard(props: &ModelProps) -> Html {
    let (m, skip) = (&props.run, props.skip);
    let mask = use_memo(m.evaluation.clone(), |e| e.as_ref().map(|e| Shared(Rc::new(e.mask.clone()))));
    let first: Vec<String> = m.losses.iter().take(20).map(|l| l.to_string()).collect();
    let rate = m.steps_per_second();
    let status = match &m.status {
        Status::Idle | Status::Starting => "starting",
        Status::Ready => "ready",
        Status::Failed(_) => "failed",
        Status::Crashed(_) => "crashed",
    };
    let eval = m.evaluation.as_ref();
    html! {
        <section class={classes!("learn-card", "learn-model", skip_class(skip))} data-skip={skip.name()} data-status={status}
            data-steps={m.steps.to_string()} data-first-losses={first.join(",")}
            data-loss={m.recent_loss().map(|l| l.to_string())} data-rate={rate.map(|r| format!("{r:.2}"))}
            data-thin-iou={eval.and_then(|e| e.thin_iou).map(|v| v.to_string())} data-blob-iou={eval.and_then(|e| e.blob_iou).map(|v| v.to_string())}
            data-eval-step={eval.map(|e| e.step.to_string())}>
            <h3><span class={classes!("key", skip_class(skip))}>{ skip_title(skip) }</span></h3>
            if let Some(message) = m.failure() {
                <p class="error" role="alert">
                    { if matches!(m.status, Status::Crashed(_)) { format!("This model's worker stopped on an internal error and trains no more; the other models go on. Reload the page to train it again. ({message})") } else { format!("This model could not train: {message}") } }
                </p>
            }
            if let Some(mask) = (*mask).clone() {
                <figure>
                    <ClassMap classes={mask} size={props.size} what="mask of the held-out image" variant={format!("{}-{}", props.upsample, skip)} />
                    <figcaption>{ format!("its mask after step {}", eval.map_or(0, |e| e.step)) }</figcaption>
                </figure>
            }
            <dl>
                <dt>{ "step" }</dt><dd class="steps">{ m.steps }</dd>
                <dt>{ "loss" }</dt><dd>{ m.recent_loss().map_or("–".into(), |l| format!("{l:.3}")) }<small>{ format!(" (mean of the last {RECENT} steps)") }</small></dd>
                <dt>{ "thin IoU" }</dt><dd class="thin-iou">{ eval.map_or("–".into(), |e| percent(e.thin_iou)) }</dd>
                <dt>{ "blob IoU" }</dt><dd class="blob-iou">{ eval.map_or("–".into(), |e| percent(e.blob_iou)) }</dd>
                <dt>{ "steps/s" }</dt><dd class="rate">{ rate.map_or("–".into(), |r| format!("{r:.1}")) }</dd>
                <dt>{ "weights" }</dt><dd>{ if m.parameter_count == 0 { "–".into() } else { format!("{}", m.parameter_count) } }
                    if skip != Skip::None && m.shared_values > 0 { <small>{ format!(" ({} of them start equal to none's)", m.shared_values) }</small> }
                </dd>
            </dl>
        </section>
    }
}

/// A `<select>` of `options` (`(value, text)`), calling `on_change` with the chosen value.
fn select(label: &str, current: &str, options: Vec<(String, String)>, on_change: Callback<String>) -> Html {
    let onchange = Callback::from(move |e: Event| {
        if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
            on_change.emit(s.value());
        }
    });
    html! {
        <label>{ label }
            <select {onchange} aria-label={label.to_string()}>
                { for options.into_iter().map(|(v, t)| html! { <option value={v.clone()} selected={v == current}>{ t }</option> }) }
            </select>
        </label>
    }
}

#[function_component]
pub fn LearnApp() -> Html {
    let state = use_reducer(|| LearnState::new(settings::parse(&settings::read_location())));
    use_learn(&state);
    let s = state.settings;
    let set = {
        let d = state.dispatcher();
        move |f: fn(Settings, &str) -> Option<Settings>| {
            let d = d.clone();
            Callback::from(move |v: String| {
                if let Some(next) = f(s, &v) {
                    d.dispatch(LearnAction::SetSettings(next));
                }
            })
        }
    };
    let on_task = set(|s, v| v.parse().ok().map(|task| Settings { task, ..s }));
    let on_up = set(|s, v| v.parse().ok().map(|upsample| Settings { upsample, ..s }));
    let on_lr = set(|s, v| v.parse().ok().map(|lr| Settings { lr, ..s }));
    let on_size = set(|s, v| v.parse().ok().map(|size| Settings { size, ..s }));
    let on_seed = {
        let d = state.dispatcher();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                match input.value().trim().parse::<u64>() {
                    Ok(seed) if seed <= MAX_SEED => d.dispatch(LearnAction::SetSettings(Settings { seed, ..s })),
                    _ => input.set_value(&s.seed.to_string()),
                }
            }
        })
    };
    let d = state.dispatcher();
    let on_play = {
        let (d, playing) = (d.clone(), state.playing);
        Callback::from(move |_| d.dispatch(if playing { LearnAction::Pause } else { LearnAction::Play { at_ms: crate::now_ms() } }))
    };
    let on_step = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(LearnAction::Step))
    };
    let on_reset = Callback::from(move |_| d.dispatch(LearnAction::Reset));
    let curves = SKIPS
        .iter()
        .zip(&state.models)
        .map(|(skip, m)| (AttrValue::from(skip.name()), AttrValue::from(skip_class(*skip)), m.losses.clone()))
        .collect::<Vec<_>>();
    let ready = state.any_ready();
    let thin_what = match s.task {
        Task::Lines => "lines one or two pixels wide",
        Task::Dots => "dots two or three pixels wide",
        Task::Mixed => "lines one or two pixels wide and dots two or three pixels wide",
    };
    html! {
        <main class="learn">
            <header>
                <p class="crumb"><a href="./">{ "← SkipScope" }</a></p>
                <h1>{ "Train it yourself: why the skip?" }</h1>
                <p class="lede">
                    { format!("Three networks, identical but for the skip (none, add, concat), learn the same task side by side in your browser, each in its own Web Worker, with Adam: {s_size}×{s_size} images of blobs and {thin_what}, equally bright on a noisy background; the label says which pixels are blob and which are thin. All three use {up} upsampling, depth {DEPTH} (three poolings), width {WIDTH}, batches of {BATCH}, and start from the same weights wherever their shapes agree. Without a skip the decoder sees only the pooled map, an eighth of the resolution{indices}: watch whether it ever places the thin structures.",
                        s_size = s.size, up = s.upsample,
                        indices = if s.upsample == Upsample::Unpool { " (and, through unpooling, where each maximum was)" } else { "" }) }
                </p>
            </header>
            <section class="learn-settings" aria-label="settings">
                { select("task", s.task.name(), Task::ALL.iter().map(|t| (t.name().to_string(), t.label().to_string())).collect(), on_task) }
                { select("upsampler", s.upsample.name(), Upsample::ALL.iter().map(|u| (u.name().to_string(), u.name().to_string())).collect(), on_up) }
                { select("learning rate", &s.lr.to_string(), RATES.iter().map(|r| (r.to_string(), r.to_string())).collect(), on_lr) }
                { select("image size", &s.size.to_string(), SIZES.iter().map(|z| (z.to_string(), format!("{z}×{z}"))).collect(), on_size) }
                <label>{ "seed" }
                    <input type="number" min="0" max={MAX_SEED.to_string()} value={s.seed.to_string()} onchange={on_seed} aria-label="seed" />
                </label>
            </section>
            <div class="learn-controls" role="group" aria-label="training">
                <button class="play" onclick={on_play} disabled={!ready} aria-pressed={state.playing.to_string()}>{ if state.playing { "pause" } else { "play" } }</button>
                <button class="one-step" onclick={on_step} disabled={!ready || state.playing}>{ "one step" }</button>
                <button class="reset" onclick={on_reset}>{ "reset" }</button>
                <span class="hint">{ if ready { "Changing a setting starts the three models again from step 0." } else { "Starting the workers…" } }</span>
            </div>
            <LossChart {curves} />
            <div class="learn-grid">
                if let Some(example) = state.example.clone() {
                    <ExampleView {example} />
                }
                { for SKIPS.iter().zip(&state.models).map(|(skip, m)| html! { <ModelCard skip={*skip} run={m.clone()} size={s.size} upsample={s.upsample} /> }) }
            </div>
            <p class="hint">
                { format!("Masks and scores are of held-out images the models never train on, with batch norm's running statistics; thin IoU and blob IoU are the intersection over union of the thin structures and of the blobs over all {HELD_OUT} held-out images (the first is shown), refreshed every half second while training. Colours: ") }
                <span class="swatch" style={format!("background: rgb({},{},{})", COLOURS[0][0], COLOURS[0][1], COLOURS[0][2])}></span>{ " background, " }
                <span class="swatch" style={format!("background: rgb({},{},{})", COLOURS[BLOB as usize][0], COLOURS[BLOB as usize][1], COLOURS[BLOB as usize][2])}></span>{ " blob, " }
                <span class="swatch" style={format!("background: rgb({},{},{})", COLOURS[THIN as usize][0], COLOURS[THIN as usize][1], COLOURS[THIN as usize][2])}></span>{ " thin. The settings are kept in the URL." }
            </p>
        </main>
    }
}

/// Whether the page's address asks for this view.
pub fn requested() -> bool {
    settings::requested(&settings::read_location())
}

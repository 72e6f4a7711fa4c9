//! The page: owns the reducer and the worker bridge, and runs the side effects the state
//! asks for (downloads, decoding, worker requests). Components only render and call back.
//!
//! Effects, each keyed on exactly what it depends on:
//! - on mount: read `models/manifest.json`, load the URL's sample (or the dataset's first),
//!   listen for pastes and the arrow keys;
//! - when the manifest, the dataset or the variant changes: download the weights of the
//!   variant and of the other skip modes at its upsampling (each once), then hand them to
//!   the worker;
//! - when the working size changes (another dataset): read the picture again to fit it;
//! - when the picture (fit to the working size), the variant or its model changes and no
//!   result is cached: trace;
//! - when the shown trace is done: segment the other skip modes for the comparison;
//! - when the dataset, the variant, the sample or the stage changes: write the URL.

use crate::components::compare::Slot;
use crate::components::model_picker::ModelChoice;
use crate::components::{Compare, ImagePicker, MaskView, ModelBanner, ModelPicker, StageStrip, StageView, StatusLine, Toggles, UDiagram};
use crate::fetch;
use crate::manifest::{self, ManifestEntry};
use crate::picture;
use crate::protocol::{Dataset, Request, Variant};
use crate::samples;
use crate::state::{Action, Availability, State, ENGINE_STOPPED};
use crate::url::{self, UrlState};
use crate::worker::EngineWorker;
use gloo::events::EventListener;
use gloo_worker::Spawnable;
use skipscope_engine::stage_names;
use skipscope_engine::Skip;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Where Trunk puts the worker's JavaScript (`data-bin="worker"`), relative to the page.
const WORKER_PATH: &str = "worker.js";

/// Input sides are padded to a multiple of this (`2^depth` of the published models).
const MULTIPLE: usize = 1 << crate::trace::RANDOM_DEPTH;

type Bridge = Rc<gloo_worker::WorkerBridge<EngineWorker>>;

/// A file to show: its bytes, name and sample id.
#[derive(Clone)]
struct Source {
    blob: web_sys::Blob,
    name: String,
    sample: Option<String>,
}

/// The page's picture requests. Only the latest request's outcome reaches the state (a slow
/// decode never replaces a newer picture); the file behind the shown picture is kept so
/// that it can be fit again to another model's working size.
#[derive(Default)]
struct PictureLoads {
    latest: u32,
    shown: Option<Source>,
}

type Loads = Rc<RefCell<PictureLoads>>;

/// Starts a picture request and returns its ticket. A refit keeps the request-to-mask clock
/// of whatever caused it.
fn request_picture(dispatcher: &UseReducerDispatcher<State>, loads: &Loads, name: String, sample: Option<String>, refit: bool) -> u32 {
    let ticket = {
        let mut l = loads.borrow_mut();
        l.latest += 1;
        l.latest
    };
    dispatcher.dispatch(Action::PictureRequested { name, sample, at_ms: crate::now_ms(), refit });
    ticket
}

fn is_latest(loads: &Loads, ticket: u32) -> bool {
    loads.borrow().latest == ticket
}

/// Decodes `source` off the reducer for request `ticket` and, if no newer request came,
/// reports the picture or why it was refused. A refit that fails is not retried.
fn decode_picture(dispatcher: UseReducerDispatcher<State>, loads: Loads, ticket: u32, source: Source, working: [usize; 2], refit: bool) {
    wasm_bindgen_futures::spawn_local(async move {
        let result = picture::decode(source.blob.clone(), source.name.clone(), (working[0], working[1]), MULTIPLE).await;
        if !is_latest(&loads, ticket) {
            return;
        }
        match result {
            Ok(picture) => {
                let sample = source.sample.clone();
                loads.borrow_mut().shown = Some(source);
                dispatcher.dispatch(Action::PictureReady { picture, sample })
            }
            Err(message) => {
                if refit {
                    loads.borrow_mut().shown = None;
                }
                dispatcher.dispatch(Action::PictureFailed(message))
            }
        }
    });
}

/// Shows a file the user chose, dropped or pasted.
fn read_file(dispatcher: UseReducerDispatcher<State>, loads: Loads, source: Source, working: [usize; 2]) {
    let ticket = request_picture(&dispatcher, &loads, source.name.clone(), None, false);
    decode_picture(dispatcher, loads, ticket, source, working, false);
}

fn load_sample(dispatcher: UseReducerDispatcher<State>, loads: Loads, id: String, working: [usize; 2]) {
    let ticket = request_picture(&dispatcher, &loads, id.clone(), Some(id.clone()), false);
    fetch::get_bytes(
        &format!("samples/{id}.jpg"),
        None,
        Callback::from(move |r: Result<Vec<u8>, String>| {
            if !is_latest(&loads, ticket) {
                return;
            }
            match r.and_then(|b| bytes_to_blob(&b)) {
                Ok(blob) => {
                    decode_picture(dispatcher.clone(), loads.clone(), ticket, Source { blob, name: id.clone(), sample: Some(id.clone()) }, working, false)
                }
                Err(message) => dispatcher.dispatch(Action::PictureFailed(message)),
            }
        }),
    );
}

/// The value of unlabelled pixels in label images of `dataset`: its void label, or the
/// first value after its classes.
fn label_void(dataset: Dataset) -> u8 {
    dataset.void_label().unwrap_or(dataset.classes().len() as u8)
}

/// What the manifest publishes for `dataset`, in a line.
fn published_summary(state: &State, dataset: Dataset) -> String {
    let published: Vec<&ManifestEntry> = state.published(dataset).collect();
    let best = published.iter().max_by(|a, b| a.test.miou.total_cmp(&b.test.miou));
    match (published.len(), best) {
        (0, _) | (_, None) => "no trained weights published yet".into(),
        (n, Some(e)) => format!(
            "{n} trained variant{}; best test mIoU {:.1}% ({}-{})",
            if n == 1 { "" } else { "s" },
            100.0 * e.test.miou,
            e.upsample.name(),
            e.skip.name()
        ),
    }
}

fn bytes_to_blob(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| format!("{e:?}"))
}

#[function_component]
pub fn App() -> Html {
    let initial = use_memo((), |_| url::read());
    let state = {
        let initial = (*initial).clone();
        use_reducer(move || {
            let mut s = State::default();
            if let Some(d) = initial.dataset {
                s.dataset = d;
            }
            if let Some(v) = initial.variant {
                s.variant = v;
            }
            if let Some(stage) = initial.stage {
                s.selected = stage;
            }
            s
        })
    };
    // One bridge for the page's lifetime, shared by Rc: a clone of a gloo `WorkerBridge`
    // tells the worker, when dropped, that the page disconnected.
    let bridge: Bridge = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| EngineWorker::spawner().callback(move |r| dispatcher.dispatch(Action::Response(r))).spawn(WORKER_PATH))
    };
    let runs = use_mut_ref(|| 0u32);
    let next_run = {
        let runs = runs.clone();
        move || {
            let mut r = runs.borrow_mut();
            *r += 1;
            *r
        }
    };
    let downloads: Rc<RefCell<HashSet<(Dataset, Variant)>>> = use_mut_ref(HashSet::new);
    let loads: Loads = use_mut_ref(PictureLoads::default);
    // The working size now, for listeners registered once.
    let working_now = use_mut_ref(|| state.working_size());
    *working_now.borrow_mut() = state.working_size();

    // On mount: the manifest, the first picture, pastes and arrow keys.
    {
        let dispatcher = state.dispatcher();
        let offered = samples::for_dataset(state.dataset);
        let sample = initial.sample.clone().filter(|s| offered.iter().any(|o| o.id == s)).unwrap_or_else(|| offered[0].id.to_string());
        let (working, working_now) = (state.working_size(), working_now.clone());
        let loads = loads.clone();
        use_effect_with((), move |_| {
            let d = dispatcher.clone();
            fetch::get_bytes(
                "models/manifest.json",
                None,
                Callback::from(move |r: Result<Vec<u8>, String>| d.dispatch(Action::CatalogLoaded(r.and_then(|b| manifest::parse(&b))))),
            );
            load_sample(dispatcher.clone(), loads.clone(), sample, working);
            let document = gloo::utils::document();
            let d = dispatcher.clone();
            let paste = EventListener::new(&document, "paste", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::ClipboardEvent>() else { return };
                let Some(files) = e.clipboard_data().and_then(|c| c.files()) else { return };
                if let Some(file) = files.get(0) {
                    let name = if file.name().is_empty() { "the pasted image".to_string() } else { file.name() };
                    let working = *working_now.borrow();
                    read_file(d.clone(), loads.clone(), Source { blob: file.into(), name, sample: None }, working);
                }
            });
            let d = dispatcher.clone();
            let keys = EventListener::new(&document, "keydown", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                let in_field = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
                if in_field || e.alt_key() || e.ctrl_key() || e.meta_key() {
                    return;
                }
                match e.key().as_str() {
                    "ArrowLeft" => d.dispatch(Action::Step(-1)),
                    "ArrowRight" => d.dispatch(Action::Step(1)),
                    _ => return,
                }
                e.prevent_default();
            });
            move || drop((paste, keys))
        });
    }

    // Weights: the variant first, then the other skip modes at its upsampling.
    {
        let (state2, bridge, downloads) = (state.clone(), bridge.clone(), downloads.clone());
        let catalog_ready = matches!(state.catalog, crate::state::Catalog::Ready(_));
        use_effect_with((catalog_ready, state.dataset, state.variant), move |(_, dataset, variant)| {
            if state2.engine_error.is_some() {
                return;
            }
            let dataset = *dataset;
            let order = std::iter::once(*variant).chain(Skip::ALL.into_iter().map(|s| variant.with_skip(s)));
            for v in order {
                let Some(entry) = state2.entry(v) else { continue };
                if !downloads.borrow_mut().insert((dataset, v)) {
                    continue;
                }
                let d = state2.dispatcher();
                d.dispatch(Action::FetchProgress { dataset, variant: v, loaded: 0.0, total: Some(entry.bytes as f64) });
                let progress = {
                    let d = d.clone();
                    Callback::from(move |(loaded, total): fetch::Progress| d.dispatch(Action::FetchProgress { dataset, variant: v, loaded, total }))
                };
                let bridge = bridge.clone();
                let done = Callback::from(move |r: Result<Vec<u8>, String>| match r {
                    Ok(bytes) => {
                        d.dispatch(Action::FetchDone { dataset, variant: v });
                        bridge.send(Request::Load { dataset, variant: v, bytes });
                    }
                    Err(message) => d.dispatch(Action::FetchFailed { dataset, variant: v, message }),
                });
                fetch::get_bytes(&format!("models/{}", entry.file), Some(progress), done);
            }
        });
    }

    // The picture, fit again when the working size changed (another dataset's model).
    let working = state.working_size();
    let fits = state.picture.as_ref().is_none_or(|p| p.fitted_to == (working[0], working[1]));
    {
        let (loads, dispatcher) = (loads.clone(), state.dispatcher());
        let refit = !fits && state.picture_loading.is_none();
        use_effect_with((working, refit), move |(working, refit)| {
            let source = loads.borrow().shown.clone();
            if let (true, Some(source)) = (*refit, source) {
                let ticket = request_picture(&dispatcher, &loads, source.name.clone(), source.sample.clone(), true);
                decode_picture(dispatcher, loads, ticket, source, *working, true);
            }
        });
    }

    // The trace of the shown picture through the shown variant.
    {
        let availability = state.availability(state.variant);
        let cached = state.traces.contains_key(&state.variant);
        let (picture, bridge, dispatcher, next_run) = (state.picture.clone(), bridge.clone(), state.dispatcher(), next_run.clone());
        let dataset = state.dataset;
        use_effect_with(
            (state.picture_serial, fits, dataset, state.variant, availability, cached),
            move |(_, fits, dataset, variant, availability, cached)| {
                if let (Some(p), true, true, false) = (picture, *fits, availability.runnable(), *cached) {
                    let run = next_run();
                    dispatcher.dispatch(Action::StartTrace { run, variant: *variant });
                    bridge.send(Request::Trace { run, dataset: *dataset, variant: *variant, image: p.input.clone() });
                }
            },
        );
    }

    // The comparison: the other skip modes, once the shown trace is done.
    {
        let trace_done = state.trace().is_some_and(|t| !t.running());
        let wanted: Vec<Variant> = Skip::ALL
            .into_iter()
            .map(|s| state.variant.with_skip(s))
            .filter(|v| {
                *v != state.variant
                    && state.availability(*v).runnable()
                    && !state.masks.contains_key(v)
                    && !state.segment_runs.values().any(|w| w == v)
                    && !state.segment_errors.contains_key(v)
            })
            .collect();
        let (picture, bridge, dispatcher) = (state.picture.clone(), bridge.clone(), state.dispatcher());
        use_effect_with((state.picture_serial, state.dataset, trace_done, wanted), move |(_, dataset, done, wanted)| {
            if let (Some(p), true) = (picture, *done) {
                for v in wanted {
                    let run = next_run();
                    dispatcher.dispatch(Action::StartSegment { run, variant: *v });
                    bridge.send(Request::Segment { run, dataset: *dataset, variant: *v, image: p.input.clone() });
                }
            }
        });
    }

    // The URL.
    {
        let u = UrlState { dataset: Some(state.dataset), variant: Some(state.variant), sample: state.sample.clone(), stage: Some(state.selected.clone()) };
        use_effect_with(u, url::write);
    }

    let d = state.dispatcher();
    let on_sample = {
        let (d, loads) = (d.clone(), loads.clone());
        Callback::from(move |id: String| load_sample(d.clone(), loads.clone(), id, working))
    };
    let on_file = {
        let (d, loads) = (d.clone(), loads.clone());
        Callback::from(move |file: web_sys::File| {
            let name = file.name();
            read_file(d.clone(), loads.clone(), Source { blob: file.into(), name, sample: None }, working)
        })
    };
    let on_dataset = {
        let (d, loads, sample, current) = (d.clone(), loads.clone(), state.sample.clone(), state.dataset);
        Callback::from(move |dataset: Dataset| {
            if dataset == current {
                return;
            }
            // A sample that does not suit the new model gives way to the first that does;
            // requested before the switch, so the refit effect finds a picture loading and
            // leaves it be (and if that request fails, the old picture is refit instead).
            let offered = samples::for_dataset(dataset);
            if sample.as_ref().is_some_and(|s| !offered.iter().any(|o| o.id == s)) {
                load_sample(d.clone(), loads.clone(), offered[0].id.to_string(), dataset.working_size());
            }
            d.dispatch(Action::SetDataset { dataset, at_ms: crate::now_ms() });
        })
    };
    let on_label = {
        let (d, picture, serial, dataset) = (d.clone(), state.picture.clone(), state.picture_serial, state.dataset);
        let classes = state.trace().and_then(|t| t.model.as_ref()).map(|m| m.classes.clone()).unwrap_or_else(|| state.dataset.classes());
        let void = label_void(state.dataset);
        Callback::from(move |file: web_sys::File| {
            let Some(p) = picture.clone() else { return };
            let (d, name) = (d.clone(), file.name());
            let palette: Vec<[u8; 3]> = classes.iter().map(|c| c.color).collect();
            wasm_bindgen_futures::spawn_local(async move {
                let size = (p.input.valid_height, p.input.valid_width);
                match picture::decode_label(file.into(), name, p.original, size, palette, void).await {
                    Ok(label) => d.dispatch(Action::LabelReady { label: Rc::new(label), picture_serial: serial, dataset }),
                    Err(message) => d.dispatch(Action::LabelFailed { message, picture_serial: serial, dataset }),
                }
            });
        })
    };
    let on_variant = {
        let d = d.clone();
        Callback::from(move |variant| d.dispatch(Action::SetVariant { variant, at_ms: crate::now_ms() }))
    };
    let on_select = {
        let d = d.clone();
        Callback::from(move |x| d.dispatch(Action::Select(x)))
    };
    let on_step = {
        let d = d.clone();
        Callback::from(move |x| d.dispatch(Action::Step(x)))
    };
    let on_channel = {
        let d = d.clone();
        Callback::from(move |x| d.dispatch(Action::SelectChannel(x)))
    };
    let on_scale = {
        let d = d.clone();
        Callback::from(move |x| d.dispatch(Action::SetScale(x)))
    };
    let on_opacity = {
        let d = d.clone();
        Callback::from(move |x| d.dispatch(Action::SetOpacity(x)))
    };

    let availability: Vec<(Variant, Availability)> = Variant::all().map(|v| (v, state.availability(v))).collect();
    let trace = state.trace();
    let model = trace.and_then(|t| t.model.clone());
    let depth = state.depth();
    let shapes: HashMap<String, crate::protocol::MapShape> =
        trace.map(|t| t.stages.iter().map(|s| (s.name.clone(), s.planes.shape)).collect()).unwrap_or_default();
    let ready: HashSet<String> = shapes.keys().cloned().collect();
    let selected_stage = trace.and_then(|t| t.stages.iter().find(|s| s.name == state.selected).cloned());
    let classes = model.as_ref().map(|m| m.classes.clone()).unwrap_or_else(|| state.dataset.classes());
    let class_names: Vec<AttrValue> = classes.iter().map(|c| AttrValue::from(c.name.clone())).collect();
    let samples: Vec<(AttrValue, AttrValue)> =
        samples::for_dataset(state.dataset).iter().map(|s| (AttrValue::from(s.id), AttrValue::from(s.caption))).collect();
    let choices: Vec<ModelChoice> = Dataset::ALL
        .into_iter()
        .map(|dataset| ModelChoice { dataset, classes: dataset.classes(), summary: published_summary(&state, dataset).into() })
        .collect();
    let slots: Vec<(Skip, Slot)> = Skip::ALL
        .into_iter()
        .map(|s| {
            let v = state.variant.with_skip(s);
            let slot = if let Some(seg) = state.masks.get(&v) {
                Slot::Ready(seg.clone())
            } else if let Some(e) = state.segment_errors.get(&v) {
                Slot::Missing(e.clone())
            } else {
                match state.availability(v) {
                    Availability::Unavailable(why) => Slot::Missing(why),
                    Availability::Stopped => Slot::Missing(ENGINE_STOPPED.into()),
                    _ => Slot::Pending,
                }
            };
            (s, slot)
        })
        .collect();

    html! {
        <main>
            <header>
                <h1>{ "SkipScope" }</h1>
                <p class="lede">{ "What the skip connections of a segmentation network do: pooling erases where things were; a skip hands the decoder the encoder's map from before the pooling. Everything runs in your browser, in a Web Worker." }</p>
            </header>
            if let Some(e) = &state.engine_error {
                <p class="error fatal" role="alert">
                    { "SkipScope's engine stopped on an internal error; reload the page to go on (the address keeps the sample and the settings). " }
                    <small>{ format!("Details: {e}") }</small>
                </p>
            }
            <ModelPicker current={state.dataset} {choices} on_change={on_dataset} />
            <ImagePicker samples={samples} hint={samples::upload_hint(state.dataset)} current_sample={state.sample.clone().map(AttrValue::from)}
                loading={state.picture_loading.clone().map(AttrValue::from)} error={state.picture_error.clone().map(AttrValue::from)}
                {on_sample} {on_file} />
            <Toggles variant={state.variant} availability={availability} on_change={on_variant} />
            <ModelBanner dataset={state.dataset} variant={state.variant} catalog={state.catalog.clone()} entry={state.entry(state.variant).cloned()}
                weights={state.weights.get(&(state.dataset, state.variant)).cloned()} model={model.clone()} />
            <StatusLine running={state.running()} stages={shapes.len()} total_stages={stage_names(depth).len()}
                forward_ms={trace.and_then(|t| t.forward_ms)}
                error={trace.and_then(|t| t.error.clone()).or(state.engine_error.as_ref().map(|_| ENGINE_STOPPED.into())).map(AttrValue::from)}
                latency={state.latency.map(|(w, ms)| (AttrValue::from(w), ms))} />
            if let (Some(p), Some(mask)) = (state.picture.clone(), state.mask()) {
                <MaskView picture={p} {mask} classes={classes.clone()} opacity={state.opacity} {on_opacity} />
            }
            <h2>{ "The network" }</h2>
            <UDiagram {depth} variant={state.variant} {shapes} selected={AttrValue::from(state.selected.clone())} on_select={on_select.clone()} />
            <StageStrip {depth} selected={AttrValue::from(state.selected.clone())} {ready} {on_select} {on_step} />
            if let Some(stage) = selected_stage {
                <StageView {stage} variant={state.variant} {depth} scale_mode={state.scale} channel={state.channel}
                    {class_names} {on_channel} {on_scale} />
            } else {
                <p class="hint">{ format!("{}: not computed yet.", state.selected) }</p>
            }
            <h2>{ "The three skip modes" }</h2>
            if let Some(p) = state.picture.clone() {
                <Compare picture={p} upsample={state.variant.upsample} {slots} opacity={state.opacity}
                    label={state.label.clone()} label_error={state.label_error.clone().map(AttrValue::from)} {on_label}
                    label_format={format!("the legend's colours, or class indices 0–{} with {} = void", state.dataset.classes().len() - 1, label_void(state.dataset))} />
            }
            <footer>
                <p class="hint">{ "Sample photos: public domain and CC0, from scikit-image (see samples/LICENSES.md). The view is kept in the URL: copy it to share." }</p>
            </footer>
        </main>
    }
}

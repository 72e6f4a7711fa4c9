//! The page: the reducer, the hooks that run its side effects (`hooks/`), and the view,
//! which only lays out components with data the state derives. Components only render and
//! call back.

use crate::components::model_picker::ModelChoice;
use crate::components::{
    AblationView, CameraPanel, Closer, Compare, ImagePicker, Lesson, MaskView, ModelBanner, ModelPicker, ScoreTable, StageStrip, StageView, StatusLine,
    Toggles, UDiagram,
};
use crate::hooks::{
    use_ablation, use_camera, use_colour_ahead, use_compare, use_keys, use_lesson, use_offline_copy, use_own_models, use_paste, use_picture, use_recovery,
    use_trace, use_url, use_weights, use_worker,
};
use crate::lesson::{self, Focus};
use crate::position::{config_of, Position};
use crate::protocol::Dataset;
use crate::samples;
use crate::state::{default_fit, Action, Slot, State, Weights};
use crate::url;
use skipscope_engine::stage_names;
use yew::prelude::*;

/// A callback that dispatches `action(value)`.
fn dispatch<T: 'static>(d: &UseReducerDispatcher<State>, action: fn(T) -> Action) -> Callback<T> {
    let d = d.clone();
    Callback::from(move |x| d.dispatch(action(x)))
}

#[function_component]
pub fn App() -> Html {
    let initial = use_memo((), |_| url::read());
    let state = {
        let initial = initial.clone();
        use_reducer(move || State::from_url(&initial))
    };
    let worker = use_worker(state.dispatcher());
    use_recovery(&state, &worker);
    use_weights(&state, &worker);
    let pictures = use_picture(&state, &worker.serials, initial.sample.clone());
    use_trace(&state, &worker);
    use_colour_ahead(&state);
    use_ablation(&state, &worker);
    let on_label = use_compare(&state, &worker);
    use_url(&state);
    use_keys(state.dispatcher());
    use_paste(&pictures, state.fit());
    use_lesson(&state);
    use_offline_copy(&state);
    let on_open = use_own_models(&state, &worker);
    let video = use_camera(&state, &worker);

    let d = state.dispatcher();
    let fit = state.fit();
    let on_sample = {
        let pictures = pictures.clone();
        Callback::from(move |id: String| pictures.sample(id, fit))
    };
    let on_file = {
        let (pictures, on_open) = (pictures.clone(), on_open.clone());
        Callback::from(move |file: web_sys::File| {
            let name = file.name();
            // A weights file dropped on the photo picker opens as a model.
            if name.to_ascii_lowercase().ends_with(".safetensors") {
                return on_open.emit(vec![file]);
            }
            pictures.file(file.into(), name, fit)
        })
    };
    let on_dataset = {
        let (d, sample, current) = (d.clone(), state.sample.clone(), state.dataset);
        Callback::from(move |dataset: Dataset| {
            if dataset == current {
                return;
            }
            // A sample that does not suit the new model gives way to the first that does;
            // requested before the switch, so the refit effect finds a picture loading and
            // leaves it be (and if that request fails, the old picture is refit instead).
            if sample.as_ref().is_some_and(|s| !samples::offered(s, dataset)) {
                pictures.sample(samples::first(dataset).id.to_string(), default_fit(dataset));
            }
            d.dispatch(Action::SetDataset { dataset, at_ms: crate::now_ms() });
        })
    };
    let on_variant = {
        let d = d.clone();
        Callback::from(move |variant| {
            crate::mark("page: variant clicked");
            d.dispatch(Action::SetVariant { variant, at_ms: crate::now_ms() })
        })
    };
    let on_select = dispatch(&d, Action::Select);
    let (on_step, on_channel, on_scale, on_opacity) =
        (dispatch(&d, Action::Step), dispatch(&d, Action::SelectChannel), dispatch(&d, Action::SetScale), dispatch(&d, Action::SetOpacity));

    let on_point = {
        let d = d.clone();
        Callback::from(move |(at, pin)| d.dispatch(Action::Point { at, pin }))
    };
    let on_ablate = dispatch(&d, Action::SetAblation);
    let trace = state.trace();
    let depth = state.depth();
    let shapes = state.shapes();
    let classes = state.classes();
    let class_names: Vec<AttrValue> = classes.iter().map(|c| AttrValue::from(c.name.clone())).collect();
    let samples: Vec<(AttrValue, AttrValue, bool)> =
        samples::for_dataset(state.dataset).iter().map(|s| (AttrValue::from(s.id), AttrValue::from(s.caption), s.suits(state.dataset))).collect();
    let mut choices: Vec<ModelChoice> =
        Dataset::ALL.into_iter().map(|dataset| ModelChoice { dataset, classes: dataset.classes(), summary: state.published_summary(dataset).into() }).collect();
    if let Some(Weights::Ready(own)) = state.own_variants().first().and_then(|v| state.weights.get(&(Dataset::Own, *v))) {
        choices.push(ModelChoice { dataset: Dataset::Own, classes: own.classes.clone(), summary: state.own_summary().into() });
    }
    let opening: Vec<AttrValue> = state.own_requests.iter().map(|r| AttrValue::from(r.name.clone())).collect();
    let selected = AttrValue::from(state.selected.clone());
    let on_lesson = dispatch(&d, Action::Lesson);
    let on_show = {
        let d = d.clone();
        Callback::from(move |show| d.dispatch(Action::Show { show, at_ms: crate::now_ms() }))
    };
    // The closed lesson shows only its button: its steps are computed only while it is open
    // (they were, for every render: each stage, mask and toggle).
    let (step, first_shows) = match state.lesson {
        Some(i) => (lesson::step(&state, i), (0..lesson::STEPS).map(|i| lesson::step(&state, i).shows.into_iter().next()).collect()),
        None => (lesson::Step { title: lesson::TITLES[0], paragraphs: Vec::new(), shows: Vec::new() }, Vec::new()),
    };
    let focused = |f: Focus| classes!("focusable", (state.focus == Some(f) && state.lesson.is_some()).then_some("focused"));

    html! {
        <div class={classes!("page", state.lesson.is_some().then_some("with-lesson"))}>
        <main>
            <header>
                <h1>{ "SkipScope" }</h1>
                <p class="lede">
                    { "Why a segmentation network needs skip connections. Pooling gives each value a wide view but erases where things were; unpooling, transposed convolution and bilinear interpolation are three ways to upsample, and none can invent that back. A skip is not a fourth upsampler: it hands each decoder stage the encoder's map from before the pooling, and every decoder stage upsamples and fuses one. Everything runs in your browser, in a Web Worker." }
                </p>
                <p class="learn-link"><a href="?learn=1">{ "Train it yourself: watch none, add and concat learn thin lines side by side →" }</a></p>
            </header>
            if let (Some(e), None) = (&state.recovered_from, &state.engine_error) {
                <p class="note recovered" role="status">
                    { format!("SkipScope's engine stopped on an internal error and was restarted ({} of {} restarts); what it was computing was computed again. ", state.worker_restarts, crate::state::WORKER_RESTARTS) }
                    <small>{ format!("Details: {e}") }</small>
                </p>
            }
            if let Some(e) = &state.engine_error {
                <p class="error fatal" role="alert">
                    { "SkipScope's engine stopped on an internal error; reload the page to go on (the address keeps the sample and the settings). " }
                    <small>{ format!("Details: {e}") }</small>
                </p>
            }
            <ModelPicker current={state.dataset} {choices} on_change={on_dataset} {on_open} {opening} error={state.own_error.clone().map(AttrValue::from)} />
            <div data-focus="picker" class={focused(Focus::Picker)}>
                <ImagePicker samples={samples} hint={samples::upload_hint(state.dataset)} out_of_domain={samples::out_of_domain_note(state.dataset)}
                    current_sample={state.sample.clone().map(AttrValue::from)}
                    loading={state.picture_request.as_ref().map(|r| AttrValue::from(r.name.clone()))} error={state.picture_error.clone().map(AttrValue::from)}
                    {on_sample} {on_file} />
                if let Some(p) = &state.picture {
                    <p class="hint picture-size" data-original={format!("{}x{}", p.original.1, p.original.0)}>
                        { format!("{}: {} x {} pixels, read at {} x {}.", p.name, p.original.1, p.original.0, p.input.valid_width, p.input.valid_height) }
                    </p>
                    if let Some(note) = p.note.clone() {
                        <p class="note picture-note" role="status">{ note }</p>
                    }
                }
                <CameraPanel status={state.camera.status.clone()} variant={state.variant} {video} shown={state.camera.shown.clone()} variants={state.camera_variants()}
                    side_by_side={state.camera.side_by_side} frames={state.camera.frames} fps={state.camera.fps()} single_fps={state.camera.single_fps(state.variant)}
                    classes={classes.clone()} opacity={state.opacity}
                    on_start={{ let d = d.clone(); Callback::from(move |()| d.dispatch(Action::CameraStart)) }}
                    on_stop={{ let d = d.clone(); Callback::from(move |()| d.dispatch(Action::CameraStop)) }}
                    on_side_by_side={dispatch(&d, Action::CameraSideBySide)} />
            </div>
            <Toggles variant={state.variant} availability={state.availability_all()} on_change={on_variant.clone()} />
            if let Some(note) = &state.variant_note {
                <p class="note" role="status">{ note.clone() }</p>
            }
            <ModelBanner dataset={state.dataset} variant={state.variant} catalog={state.catalog.clone()} entry={state.entry(state.variant).cloned()}
                weights={state.weights_of(state.variant).cloned()} model={trace.and_then(|t| t.model.clone())}
                on_retry={{ let (d, dataset, variant) = (d.clone(), state.dataset, state.variant); Callback::from(move |()| d.dispatch(Action::RetryWeights { dataset, variant })) }} />
            <StatusLine running={state.running()} stages={shapes.len()} total_stages={stage_names(depth).len()}
                mask_ms={trace.and_then(|t| t.mask_ms)} forward_ms={trace.and_then(|t| t.forward_ms)} error={state.status_error().map(AttrValue::from)}
                latency={state.latency.map(|(w, ms)| (AttrValue::from(w), ms))} waiting={AttrValue::from(state.waiting_for())} />
            if let (Some(p), false) = (state.picture.clone(), state.camera.active()) {
                <div data-focus="mask" class={focused(Focus::Mask)}>
                    <MaskView picture={p.clone()} mask={state.mask()} computing={state.mask_coming()} variant={state.variant} classes={classes.clone()} opacity={state.opacity} {on_opacity}
                        mark={state.position().and_then(|q| q.inside(p.input.valid_height, p.input.valid_width)).map(|q| (q.y, q.x))}
                        on_point={crate::components::closer::point_callback(on_point.clone(), 0, (p.input.valid_height, p.input.valid_width), (p.input.valid_height, p.input.valid_width), Position::or_centre(state.position(), p.input.valid_height, p.input.valid_width))} />
                </div>
            }
            <h2>{ "The network" }</h2>
            <div data-focus="diagram" class={focused(Focus::Diagram)}>
                <UDiagram {depth} variant={state.variant} {shapes} selected={selected.clone()} on_select={on_select.clone()} />
            </div>
            <StageStrip {depth} selected={selected} ready={state.ready_stages()} {on_select} {on_step} />
            <div data-focus="stage" class={focused(Focus::Stage)}>
                if let Some(stage) = state.selected_stage() {
                    <StageView stage={stage.clone()} variant={state.variant}
                        mark={state.picture.as_ref().and_then(|p| state.position().and_then(|q| q.inside(p.input.valid_height, p.input.valid_width))).map(|q| q.at_level(stage.level))}
                        on_point={state.picture.as_ref().map(|p| {
                            let valid = (p.input.valid_height, p.input.valid_width);
                            let current = Position::or_centre(state.position(), valid.0, valid.1);
                            crate::components::closer::point_callback(on_point.clone(), stage.level, (stage.planes.shape.height, stage.planes.shape.width), valid, current)
                        }).unwrap_or_default()} {depth} scale_mode={state.scale} channel={state.channel}
                        {class_names} {on_channel} {on_scale} focus_parts={state.focus == Some(Focus::Parts) && state.lesson.is_some()} />
                } else {
                    <p class="hint">{ format!("{}: not computed yet.", state.selected) }</p>
                }
            </div>
            <h2>{ "Look closer" }</h2>
            if let (Some(p), Some(model), Some(t)) = (state.picture.clone(), trace.and_then(|t| t.model.clone()), trace) {
                <Closer picture={p.clone()} stages={t.stages.clone()} config={config_of(&model)} selected={AttrValue::from(state.selected.clone())}
                    channel={state.channel} position={state.position()} pinned={state.at} on_point={on_point.clone()} on_select={dispatch(&d, Action::Select)} />
                if let (Some(mask), true, false) = (t.mask.clone(), state.variant.skip != skipscope_engine::Skip::None, t.running()) {
                    <h3>{ "Switch a skip off" }</h3>
                    <AblationView picture={p.clone()} variant={state.variant} depth={model.depth} trained={model.trained} stages={t.stages.clone()}
                        position={Position::or_centre(state.position(), p.input.valid_height, p.input.valid_width)}
                        {mask} classes={classes.clone()} opacity={state.opacity} off={state.ablation.off.clone()}
                        ablated={state.ablated()}
                        skipless={state.masks.get(&state.variant.with_skip(skipscope_engine::Skip::None)).map(|s| s.mask.clone())}
                        skipless_missing={state.compare_slots().into_iter().find_map(|(s, slot)| match (s, slot) { (skipscope_engine::Skip::None, Slot::Missing(why)) => Some(AttrValue::from(why)), _ => None })}
                        {on_ablate} on_variant={on_variant.clone()} on_point={on_point.clone()} />
                }
            } else {
                <p class="hint">{ "Once the photo is traced, point at it to follow one position through every stage." }</p>
            }
            <h2>{ "The three skip modes" }</h2>
            <div data-focus="compare" class={focused(Focus::Compare)}>
                if let Some(p) = state.picture.clone() {
                    <Compare picture={p} upsample={state.variant.upsample} slots={state.compare_slots()} opacity={state.opacity}
                        label={state.label.clone()} label_error={state.label_error.clone().map(AttrValue::from)} {on_label}
                        label_format={state.label_format()} />
                }
            </div>
            <h2>{ "The evidence: every variant on the test set" }</h2>
            <div class={focused(Focus::Scores)}>
                <ScoreTable dataset={state.dataset} entries={state.published(state.dataset).cloned().collect::<Vec<_>>()} variant={state.variant} />
            </div>
            <footer>
                <p class="hint">{ "Sample photos: the street scenes under the MIT licence (Adrien Pavie, comma.ai, Udacity), the others public domain and CC0 from scikit-image (see samples/LICENSES.md). The view, and the lesson's step, are kept in the URL: copy it to share." }</p>
            </footer>
        </main>
        <Lesson index={state.lesson} {step} {first_shows} on_step={on_lesson} {on_show} />
        </div>
    }
}

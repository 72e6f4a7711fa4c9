use super::{Legend, RgbaCanvas};
use crate::alt_text;
use crate::camera::{Shown, Status, SIDE_BY_SIDE_FPS};
use crate::masks::{class_counts, overlay};
use crate::protocol::{Mask, Variant};
use crate::Shared;
use skipscope_engine::weights::ClassInfo;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub status: Status,
    /// The variant shown (the legend's shares are of its mask).
    pub variant: Variant,
    /// The `<video>`'s ref: `hooks/use_camera` gives it the camera's stream.
    pub video: NodeRef,
    /// The last answered frame and its masks.
    pub shown: Option<Rc<Shown>>,
    /// What the next frame runs: each variant, `Ok` or why it cannot run now.
    pub variants: Vec<(Variant, Result<(), String>)>,
    pub side_by_side: bool,
    pub frames: u64,
    /// Frames per second of the current mode, and of the shown variant alone per frame
    /// (none: not measured for this dataset and variant).
    pub fps: Option<f64>,
    pub single_fps: Option<f64>,
    pub classes: Vec<ClassInfo>,
    pub opacity: f64,
    pub on_start: Callback<()>,
    pub on_stop: Callback<()>,
    pub on_side_by_side: Callback<bool>,
}

#[derive(Properties, PartialEq)]
struct LiveProps {
    rgba: Shared<Vec<u8>>,
    height: usize,
    width: usize,
    variant: Variant,
    mask: Shared<Mask>,
    classes: Vec<ClassInfo>,
    opacity: f64,
}

/// One frame's mask over the frame.
#[function_component]
fn LiveMask(props: &LiveProps) -> Html {
    let o = (props.opacity * 100.0).round() as i32;
    let pixels =
        use_memo((props.rgba.clone(), props.mask.clone(), props.classes.clone(), o), |(rgba, m, c, o)| Shared(Rc::new(overlay(rgba, m, c, *o as f64 / 100.0))));
    let names: Vec<&str> = props.classes.iter().map(|c| c.name.as_str()).collect();
    let label = alt_text::mask("live mask", &props.variant.to_string(), &props.mask, &names);
    html! { <RgbaCanvas pixels={(*pixels).clone()} width={props.width} height={props.height} class="live-mask" label={AttrValue::from(label)} /> }
}

/// "Use camera" beside the photo picker; when on, the video, the live mask of each variant
/// run (the shown one, or the three skip modes side by side), frames per second, and the
/// side-by-side switch with its rule (offered from [`SIDE_BY_SIDE_FPS`] frames per second
/// with one variant).
#[function_component]
pub fn CameraPanel(props: &Props) -> Html {
    let start = props.on_start.reform(|_: MouseEvent| ());
    let stop = props.on_stop.reform(|_: MouseEvent| ());
    let active = matches!(props.status, Status::Starting | Status::On);
    let (start_ref, stop_ref) = (use_node_ref(), use_node_ref());
    // The one polite live region: camera started, stopped, side by side.
    let announce = use_state(String::new);
    let before: Rc<std::cell::RefCell<Option<(bool, bool)>>> = use_mut_ref(|| None);
    {
        let (start_ref, stop_ref, announce, before) = (start_ref.clone(), stop_ref.clone(), announce.clone(), before.clone());
        let failed = matches!(props.status, Status::Failed(_));
        use_effect_with((active, props.side_by_side, failed), move |&(active, side_by_side, failed)| {
            let was = before.borrow_mut().replace((active, side_by_side));
            if let Some((was_active, was_side_by_side)) = was {
                if active && !was_active {
                    // Started: the focus goes to the control that stops it.
                    if let Some(b) = stop_ref.cast::<web_sys::HtmlElement>() {
                        let _ = b.focus();
                    }
                    announce.set("Camera starting.".into());
                } else if !active && was_active {
                    // Stopped: the focus, if it was in the camera view (now gone), goes back
                    // to "Use camera"; a control chosen elsewhere (a photo) keeps it.
                    let lost = gloo::utils::document().active_element().is_none_or(|e| e == gloo::utils::body().into());
                    if lost {
                        if let Some(b) = start_ref.cast::<web_sys::HtmlElement>() {
                            let _ = b.focus();
                        }
                    }
                    // A failure is announced by its alert.
                    announce.set(if failed { String::new() } else { "Camera stopped.".into() });
                } else if active && side_by_side != was_side_by_side {
                    announce.set(if side_by_side { "Side by side: the three skip modes run on every frame." } else { "One model per frame." }.into());
                }
            }
        });
    }
    {
        // "Camera on." once the browser answered.
        let announce = announce.clone();
        use_effect_with(props.status == Status::On, move |&on| {
            if on {
                announce.set("Camera on.".into());
            }
        });
    }
    let live = html! { <p class="visually-hidden camera-announce" aria-live="polite">{ (*announce).clone() }</p> };
    if !active {
        return html! {
            <>
                { live }
                <div class="camera-off">
                    <button class="camera-start" ref={start_ref} onclick={start}>{ "Use camera" }</button>
                    <span class="hint">{ " segments your camera's video live with the shown model and skip." }</span>
                    if let Status::Failed(e) = &props.status {
                        <p class="error camera-error" role="alert">{ e.message() }</p>
                    }
                </div>
            </>
        };
    }
    let fps_text = match (&props.status, props.fps) {
        (Status::Starting, _) => "Asking for the camera… (allow it if the browser asks)".to_string(),
        (_, None) if props.frames == 0 => "Waiting for the first frame…".to_string(),
        (_, None) => format!("Frame {}; measuring frames per second…", props.frames),
        (_, Some(f)) => format!(
            "Frame {} · {f:.1} frames per second (over the last 2 s){}",
            props.frames,
            props.shown.as_ref().map(|s| format!(" · last frame answered in {:.0} ms", s.ms)).unwrap_or_default()
        ),
    };
    let disabled = !props.side_by_side && props.single_fps.is_none();
    let toggle = {
        let (cb, on) = (props.on_side_by_side.clone(), props.side_by_side);
        Callback::from(move |_: MouseEvent| {
            if !disabled {
                cb.emit(!on)
            }
        })
    };
    let (rule, toggle_label) = match (props.side_by_side, props.single_fps) {
        (true, single) => (
            format!(
                "Each frame runs the three skip modes, the shown one on the mask worker and the other two on the trace worker at the same time{}.",
                single.map(|f| format!("; with one model ({}) this machine ran {f:.1} frames per second", props.variant)).unwrap_or_default()
            ),
            "One model per frame",
        ),
        (false, None) => (format!("Side by side is offered once this machine runs {SIDE_BY_SIDE_FPS:.0} frames per second with the shown model ({}); measuring…", props.variant), "Three skip modes side by side"),
        (false, Some(f)) if f >= SIDE_BY_SIDE_FPS => (
            format!("This machine runs {f:.1} frames per second with one model ({}; {SIDE_BY_SIDE_FPS:.0} or more): fast enough to run the three skip modes on every frame.", props.variant),
            "Three skip modes side by side",
        ),
        (false, Some(f)) => (
            format!("This machine runs {f:.1} frames per second with one model ({}): too slow for the three skip modes side by side (it would run about {:.1} to {:.1}; offered from {SIDE_BY_SIDE_FPS:.0} with one).", props.variant, f / 3.0, f / 2.0),
            "Side by side anyway (slow)",
        ),
    };
    let waiting: Vec<Html> = props
        .variants
        .iter()
        .filter_map(|(v, ok)| ok.as_ref().err().map(|why| html! { <p class="note" role="status">{ format!("{v} does not run: {why}.") }</p> }))
        .collect();
    let masks = props.shown.as_ref().map(|s| {
        s.masks
            .iter()
            .map(|(v, m)| {
                let body = match m {
                    Ok(mask) => html! { <LiveMask rgba={s.rgba.clone()} height={s.height} width={s.width} variant={*v} mask={mask.clone()} classes={props.classes.clone()} opacity={props.opacity} /> },
                    Err(e) => html! { <div class="live-mask empty">{ e.clone() }</div> },
                };
                html! {
                    <figure key={v.to_string()} class="live" data-variant={v.to_string()}>
                        { body }
                        <figcaption>{ format!("skip {} ({v})", v.skip.name()) }</figcaption>
                    </figure>
                }
            })
            .collect::<Html>()
    });
    // The legend's shares are of the shown variant's mask (else of the first mask shown).
    let legend_mask = props.shown.as_ref().and_then(|s| {
        let ok = |(v, m): &(Variant, Result<Shared<Mask>, String>)| m.as_ref().ok().map(|m| (*v, m.clone()));
        s.masks.iter().filter(|(v, _)| *v == props.variant).find_map(ok).or_else(|| s.masks.iter().find_map(ok))
    });
    let counts = legend_mask.as_ref().map(|(v, m)| (*v, class_counts(m, props.classes.len())));
    html! {
        <>
        { live }
        <section class="camera-view" aria-label="live camera" data-status={if props.status == Status::On { "on" } else { "starting" }}>
            <div class="camera-bar">
                <button class="camera-stop" ref={stop_ref} onclick={stop}>{ "Stop camera" }</button>
                <button class={classes!("camera-sbs", props.side_by_side.then_some("on"))} aria-pressed={props.side_by_side.to_string()}
                    aria-disabled={disabled.to_string()} aria-describedby="camera-rule" onclick={toggle}>{ toggle_label }</button>
                <span class="hint">{ " Esc stops the camera; the photo and its results come back." }</span>
            </div>
            <p class="hint camera-rule" id="camera-rule">{ rule }</p>
            <p class="status camera-fps" data-frames={props.frames.to_string()} data-fps={props.fps.map(|f| format!("{f:.2}")).unwrap_or_default()}>{ fps_text }</p>
            { for waiting }
            <div class={classes!("camera-row", props.side_by_side.then_some("three"))}>
                <figure class="live-video">
                    <video ref={props.video.clone()} class="camera-video" autoplay=true muted=true playsinline=true aria-label="the camera's video" />
                    <figcaption>{ "camera" }</figcaption>
                </figure>
                { masks.unwrap_or_default() }
            </div>
            if let Some((v, counts)) = counts {
                <p class="hint camera-legend-of">{ format!("Class shares of the last {v} mask:") }</p>
                <Legend classes={props.classes.clone()} {counts} />
            }
        </section>
        </>
    }
}

//! The live camera's side effects: the camera opened when the state asks for it
//! (`getUserMedia({video: {facingMode: 'environment'}})`, shown by `video.srcObject`, so no
//! blob: URL and no CSP source is needed) and closed (every track stopped) when it is off;
//! each start has its number, and a stream that arrives for a start no longer current
//! (stopped, or started again, while the browser asked) is stopped at once, so at most one
//! stream is ever held; Escape (outside form fields) and the page being hidden turn it off;
//! a track that ends (the camera unplugged, its permission revoked) turns it off with a
//! message; and the frame loop: whenever the state wants a frame
//! ([`State::wanted_camera_frame`]: the camera is on and no frame is in flight), at the next
//! animation frame the video's current picture is drawn at the shown model's working size
//! (the photo's fit and edge padding, [`picture::fit`] and [`picture::pad_rgb`]) and sent,
//! one run per variant: the shown variant as a mask-only trace to the mask worker, the other
//! skip modes side by side as segmentations (to the trace worker, so two cores share the
//! frame). The next frame is grabbed only once the state has every answer, so frames never
//! queue and the page's thread only draws; a frame unanswered for
//! [`camera::FRAME_TIMEOUT_MS`] is forgotten, so the camera never freezes.

use super::WorkerHandle;
use crate::camera::{self, CameraError, Frame, Status};
use crate::picture::{self, Fit};
use crate::protocol::{InputImage, Request, TracePart};
use crate::state::{Action, State};
use crate::Shared;
use gloo::events::EventListener;
use gloo::render::{request_animation_frame, AnimationFrame};
use gloo::timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};
use yew::prelude::*;

/// How long to wait before looking again when the video has no picture yet.
const NOT_READY_RETRY_MS: u32 = 40;

fn error_of(e: &JsValue) -> CameraError {
    let get = |k: &str| picture::js_field(e, k).unwrap_or_default();
    CameraError::from_dom(&get("name"), &get("message"))
}

/// Asks the browser for the camera (the one facing away from the user where there are two).
async fn open() -> Result<MediaStream, CameraError> {
    let window = web_sys::window().ok_or(CameraError::Unsupported)?;
    let navigator = window.navigator();
    // `navigator.mediaDevices` exists only in a secure context (https, localhost); missing
    // in one, the browser has no camera support.
    let devices = js_sys::Reflect::get(&navigator, &JsValue::from_str("mediaDevices")).map_err(|e| error_of(&e))?;
    if devices.is_undefined() || devices.is_null() {
        return Err(CameraError::no_media_devices(window.is_secure_context()));
    }
    let devices: web_sys::MediaDevices = devices.unchecked_into();
    let video = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&video, &JsValue::from_str("facingMode"), &JsValue::from_str("environment"));
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio_bool(false);
    let promise = devices.get_user_media_with_constraints(&constraints).map_err(|e| error_of(&e))?;
    let stream = JsFuture::from(promise).await.map_err(|e| error_of(&e))?;
    stream.dyn_into::<MediaStream>().map_err(|_| CameraError::Other("the browser answered with no video stream".into()))
}

fn tracks(stream: &MediaStream) -> Vec<MediaStreamTrack> {
    stream.get_tracks().iter().filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok()).collect()
}

/// Stops every track of `stream` (the camera's light goes off).
fn stop_tracks(stream: &MediaStream) {
    for track in tracks(stream) {
        track.stop();
    }
}

/// The stream held, with the listeners for its tracks' `ended`.
type Held = Option<(MediaStream, Vec<EventListener>)>;

/// Stops and forgets the stream held, if any.
fn release(held: &RefCell<Held>) {
    if let Some((s, listeners)) = held.borrow_mut().take() {
        drop(listeners);
        stop_tracks(&s);
    }
}

/// The scratch canvas frames are drawn on, kept between frames (read back every frame).
type Scratch = Option<(HtmlCanvasElement, CanvasRenderingContext2d)>;

fn scratch(kept: &mut Scratch, width: u32, height: u32) -> Result<CanvasRenderingContext2d, String> {
    if kept.is_none() {
        *kept = Some(picture::scratch_canvas_with(width, height, true)?);
    }
    let (canvas, ctx) = kept.as_ref().expect("set above");
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    Ok(ctx.clone())
}

/// The video's current picture fit to `fit` (aspect kept, edges repeated to the multiple):
/// the network's input and the RGBA of the scaled picture (`valid_height x valid_width`).
/// `None` while the video has no picture yet.
fn grab(video: &HtmlVideoElement, fit: Fit, kept: &mut Scratch) -> Option<(InputImage, Vec<u8>)> {
    let (vw, vh) = (video.video_width() as usize, video.video_height() as usize);
    // HAVE_CURRENT_DATA: a picture to draw.
    if vw == 0 || vh == 0 || video.ready_state() < 2 {
        return None;
    }
    let (scaled, padded) = picture::fit(vh, vw, fit.size[0], fit.size[1], fit.multiple);
    let (sh, sw) = scaled;
    let ctx = scratch(kept, sw as u32, sh as u32).ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, sw as f64, sh as f64).ok()?;
    let rgba = ctx.get_image_data(0.0, 0.0, sw as f64, sh as f64).ok()?.data().0;
    Some((picture::input_from_rgba(&rgba, scaled, padded), rgba))
}

/// Whether keys typed in the focused element are its own (a form field's).
fn in_form_field(e: &web_sys::Event) -> bool {
    e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
        let tag = el.tag_name().to_ascii_lowercase();
        matches!(tag.as_str(), "input" | "select" | "textarea") || el.dyn_ref::<web_sys::HtmlElement>().is_some_and(|h| h.is_content_editable())
    })
}

/// Runs the camera the state asks for; returns the ref of the `<video>` that shows it (the
/// camera view renders it while the camera is starting or on).
#[hook]
pub fn use_camera(state: &UseReducerHandle<State>, worker: &WorkerHandle) -> NodeRef {
    let video = use_node_ref();
    let stream: Rc<RefCell<Held>> = use_mut_ref(|| None);
    // The number of the current start: a stream that arrives for another one is stopped
    // (the user stopped, or stopped and started again, while the browser asked).
    let start: Rc<RefCell<u64>> = use_mut_ref(|| 0);
    {
        let (d, video, stream, start) = (state.dispatcher(), video.clone(), stream.clone(), start.clone());
        use_effect_with(state.camera.status.clone(), move |status| match status {
            Status::Starting => {
                let mine = *start.borrow() + 1;
                *start.borrow_mut() = mine;
                wasm_bindgen_futures::spawn_local(async move {
                    let opened = open().await;
                    let current = *start.borrow() == mine;
                    match opened {
                        Ok(s) if !current => stop_tracks(&s),
                        Ok(s) => {
                            // At most one stream: one held (never, but cheap to be sure) is stopped.
                            release(&stream);
                            if let Some(v) = video.cast::<HtmlVideoElement>() {
                                v.set_muted(true);
                                v.set_src_object(Some(&s));
                                if let Ok(p) = v.play() {
                                    wasm_bindgen_futures::spawn_local(async move {
                                        let _ = JsFuture::from(p).await;
                                    });
                                }
                            }
                            // A track that ends by itself (unplugged, permission revoked; `stop()`
                            // fires no `ended`) turns the camera off with why.
                            let listeners = tracks(&s)
                                .iter()
                                .map(|t| {
                                    let (d, start) = (d.clone(), start.clone());
                                    EventListener::once(t, "ended", move |_| {
                                        if *start.borrow() == mine {
                                            d.dispatch(Action::CameraFailed(CameraError::Ended));
                                        }
                                    })
                                })
                                .collect();
                            *stream.borrow_mut() = Some((s, listeners));
                            d.dispatch(Action::CameraOpened(Ok(())));
                        }
                        Err(_) if !current => {}
                        Err(e) => d.dispatch(Action::CameraOpened(Err(e))),
                    }
                });
            }
            Status::On => {}
            Status::Off | Status::Failed(_) => {
                // A start still waiting for the browser is no longer current.
                *start.borrow_mut() += 1;
                release(&stream);
                if let Some(v) = video.cast::<HtmlVideoElement>() {
                    v.set_src_object(None);
                }
            }
        });
    }
    {
        // Escape (outside form fields) and the page being hidden turn the camera off.
        let d = state.dispatcher();
        use_effect_with(state.camera.active(), move |active| {
            let listeners = active.then(|| {
                let keys = {
                    let d = d.clone();
                    EventListener::new(&gloo::utils::document(), "keydown", move |e| {
                        if e.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|k| k.key() == "Escape") && !in_form_field(e) {
                            d.dispatch(Action::CameraStop);
                        }
                    })
                };
                let hidden = EventListener::new(&gloo::utils::document(), "visibilitychange", move |_| {
                    if gloo::utils::document().hidden() {
                        d.dispatch(Action::CameraStop);
                    }
                });
                (keys, hidden)
            });
            move || drop(listeners)
        });
    }
    {
        let pending: Rc<RefCell<Option<AnimationFrame>>> = use_mut_ref(|| None);
        // The look again when the video had no picture yet (dropped, it is cancelled): at its
        // first data (`loadeddata`), or shortly when it has data but no size yet; and the
        // frame in flight's timeout.
        let again: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);
        let loaded: Rc<RefCell<Option<EventListener>>> = use_mut_ref(|| None);
        let kept: Rc<RefCell<Scratch>> = use_mut_ref(|| None);
        let retry = use_state(|| 0u32);
        let (d, video, worker) = (state.dispatcher(), video.clone(), worker.clone());
        let (fit, dataset, shown) = (state.fit(), state.dataset, state.variant);
        let in_flight = state.camera.in_flight.is_some();
        let key = (state.wanted_camera_frame(), state.camera.frames, in_flight, fit, dataset, shown, *retry);
        use_effect_with(key, move |(variants, ..)| {
            let variants = variants.clone();
            again.borrow_mut().take();
            loaded.borrow_mut().take();
            if variants.is_empty() {
                pending.borrow_mut().take();
                if in_flight {
                    // The frame in flight is forgotten if no answer comes (this effect runs
                    // again, and so cancels the timeout, with every frame answered).
                    let d = d.clone();
                    let ms = camera::FRAME_TIMEOUT_MS as u32;
                    *again.borrow_mut() = Some(Timeout::new(ms, move || d.dispatch(Action::CameraFrameLate { at_ms: crate::now_ms() })));
                }
                return;
            }
            let next_retry = *retry + 1;
            let (again_in_frame, loaded_in_frame) = (again.clone(), loaded.clone());
            let frame = request_animation_frame(move |_| {
                let element = video.cast::<HtmlVideoElement>();
                let grabbed = element.as_ref().and_then(|v| grab(v, fit, &mut kept.borrow_mut()));
                let Some((image, rgba)) = grabbed else {
                    // No picture yet: look again at the video's first data, else shortly.
                    match element {
                        Some(v) if v.ready_state() < 2 => {
                            *loaded_in_frame.borrow_mut() = Some(EventListener::once(&v, "loadeddata", move |_| retry.set(next_retry)));
                        }
                        _ => *again_in_frame.borrow_mut() = Some(Timeout::new(NOT_READY_RETRY_MS, move || retry.set(next_retry))),
                    }
                    return;
                };
                let runs: Vec<_> = variants.iter().map(|v| (*v, worker.serials.next())).collect();
                let (height, width) = (image.valid_height, image.valid_width);
                d.dispatch(Action::CameraFrameSent(Frame {
                    sent_ms: crate::now_ms(),
                    rgba: Shared(Rc::new(rgba)),
                    height,
                    width,
                    runs: runs.clone(),
                    got: Vec::new(),
                }));
                for (variant, serial) in runs {
                    let image = image.clone();
                    worker.send(if variant == shown {
                        Request::Trace { serial, dataset, variant, image, part: TracePart::Mask }
                    } else {
                        Request::Segment { serial, dataset, variant, image }
                    });
                }
            });
            *pending.borrow_mut() = Some(frame);
        });
    }
    video
}

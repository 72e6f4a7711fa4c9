//! The live camera's side effects: the camera opened when the state asks for it
//! (`getUserMedia({video: {facingMode: 'environment'}})`, shown by `video.srcObject`, so no
//! blob: URL and no CSP source is needed) and closed (every track stopped) when it is off;
//! Escape turns it off; and the frame loop: whenever the state wants a frame
//! ([`State::wanted_camera_frame`]: the camera is on and no frame is in flight), at the next
//! animation frame the video's current picture is drawn at the shown model's working size
//! (the photo's fit and edge padding, [`picture::fit`] and [`picture::pad_rgb`]) and sent,
//! one run per variant: the shown variant as a mask-only trace to the mask worker, the other
//! skip modes side by side as segmentations (to the trace worker, so two cores share the
//! frame). The next frame is grabbed only once the state has every answer, so frames never
//! queue and the page's thread only draws.

use super::WorkerHandle;
use crate::camera::{CameraError, Frame, Status};
use crate::picture::{self, Fit};
use crate::protocol::{InputImage, Request, TracePart};
use crate::state::{Action, State};
use crate::Shared;
use gloo::events::EventListener;
use gloo::render::{request_animation_frame, AnimationFrame};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};
use yew::prelude::*;

/// How long to wait before trying again when the video has no picture yet.
const NOT_READY_RETRY_MS: u32 = 40;

fn error_of(e: &JsValue) -> CameraError {
    let get = |k: &str| js_sys::Reflect::get(e, &JsValue::from_str(k)).ok().and_then(|v| v.as_string()).unwrap_or_default();
    CameraError::from_dom(&get("name"), &get("message"))
}

/// Asks the browser for the camera (the one facing away from the user where there are two).
async fn open() -> Result<MediaStream, CameraError> {
    let window = web_sys::window().ok_or(CameraError::Insecure)?;
    let navigator = window.navigator();
    // `navigator.mediaDevices` exists only in a secure context (https, localhost).
    let devices = js_sys::Reflect::get(&navigator, &JsValue::from_str("mediaDevices")).map_err(|e| error_of(&e))?;
    if devices.is_undefined() || devices.is_null() {
        return Err(CameraError::Insecure);
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

/// Stops every track of `stream` (the camera's light goes off).
fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// The scratch canvas frames are drawn on, kept between frames (read back every frame).
type Scratch = Option<(HtmlCanvasElement, CanvasRenderingContext2d)>;

fn scratch(kept: &mut Scratch, width: u32, height: u32) -> Result<CanvasRenderingContext2d, String> {
    if kept.is_none() {
        let document = gloo::utils::document();
        let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(|_| "no canvas")?.dyn_into().map_err(|_| "not a canvas")?;
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("willReadFrequently"), &JsValue::TRUE);
        let ctx = canvas.get_context_with_context_options("2d", &options).ok().flatten().ok_or("no 2D context")?.dyn_into().map_err(|_| "not a 2D context")?;
        *kept = Some((canvas, ctx));
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
    let ((sh, sw), (ph, pw)) = picture::fit(vh, vw, fit.size[0], fit.size[1], fit.multiple);
    let ctx = scratch(kept, sw as u32, sh as u32).ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, sw as f64, sh as f64).ok()?;
    let rgba = ctx.get_image_data(0.0, 0.0, sw as f64, sh as f64).ok()?.data().0;
    let rgb = picture::pad_rgb(&rgba, (sh, sw), (ph, pw));
    Some((InputImage { height: ph, width: pw, valid_height: sh, valid_width: sw, rgb }, rgba))
}

/// Runs the camera the state asks for; returns the ref of the `<video>` that shows it (the
/// camera view renders it while the camera is starting or on).
#[hook]
pub fn use_camera(state: &UseReducerHandle<State>, worker: &WorkerHandle) -> NodeRef {
    let video = use_node_ref();
    let stream: Rc<RefCell<Option<MediaStream>>> = use_mut_ref(|| None);
    // Whether a stream that arrives is still wanted (the user may stop before it does).
    let wanted: Rc<Cell<bool>> = use_memo((), |_| Cell::new(false));
    {
        let (d, video, stream, wanted) = (state.dispatcher(), video.clone(), stream.clone(), wanted.clone());
        use_effect_with(state.camera.status.clone(), move |status| match status {
            Status::Starting => {
                wanted.set(true);
                wasm_bindgen_futures::spawn_local(async move {
                    let opened = open().await;
                    match opened {
                        Ok(s) if !wanted.get() => stop_tracks(&s),
                        Ok(s) => {
                            if let Some(v) = video.cast::<HtmlVideoElement>() {
                                v.set_muted(true);
                                v.set_src_object(Some(&s));
                                if let Ok(p) = v.play() {
                                    wasm_bindgen_futures::spawn_local(async move {
                                        let _ = JsFuture::from(p).await;
                                    });
                                }
                            }
                            *stream.borrow_mut() = Some(s);
                            d.dispatch(Action::CameraOpened(Ok(())));
                        }
                        Err(e) => d.dispatch(Action::CameraOpened(Err(e))),
                    }
                });
            }
            Status::On => {}
            Status::Off | Status::Failed(_) => {
                wanted.set(false);
                if let Some(s) = stream.borrow_mut().take() {
                    stop_tracks(&s);
                }
                if let Some(v) = video.cast::<HtmlVideoElement>() {
                    v.set_src_object(None);
                }
            }
        });
    }
    {
        // Escape turns the camera off.
        let d = state.dispatcher();
        use_effect_with(state.camera.active(), move |active| {
            let keys = active.then(|| {
                EventListener::new(&gloo::utils::document(), "keydown", move |e| {
                    if e.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|k| k.key() == "Escape") {
                        d.dispatch(Action::CameraStop);
                    }
                })
            });
            move || drop(keys)
        });
    }
    {
        let pending: Rc<RefCell<Option<AnimationFrame>>> = use_mut_ref(|| None);
        let kept: Rc<RefCell<Scratch>> = use_mut_ref(|| None);
        let retry = use_state(|| 0u32);
        let (d, video, worker) = (state.dispatcher(), video.clone(), worker.clone());
        let (fit, dataset, shown) = (state.fit(), state.dataset, state.variant);
        let key = (state.wanted_camera_frame(), state.camera.frames, fit, dataset, shown, *retry);
        use_effect_with(key, move |(variants, ..)| {
            let variants = variants.clone();
            if variants.is_empty() {
                pending.borrow_mut().take();
                return;
            }
            let next_retry = *retry + 1;
            let frame = request_animation_frame(move |_| {
                let grabbed = video.cast::<HtmlVideoElement>().and_then(|v| grab(&v, fit, &mut kept.borrow_mut()));
                let Some((image, rgba)) = grabbed else {
                    // No picture yet: look again shortly.
                    gloo::timers::callback::Timeout::new(NOT_READY_RETRY_MS, move || retry.set(next_retry)).forget();
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

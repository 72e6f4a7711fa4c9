//! The live camera, pure: whether it is on, why it failed, the frame in flight and the
//! last answered frame's masks, and the frames-per-second figures. No clock (times come
//! with the actions) and no web type: `hooks/use_camera` opens the camera, grabs frames and
//! sends them; `components/camera` draws this.
//!
//! One frame at a time: a frame is sent (one run per variant: the shown one, or the three
//! skip modes of the shown upsampler side by side) and the next only once every run of it
//! has answered, so frames never queue behind a slow model. Answers carry the run's serial
//! (the page's one counter); an answer of a frame no longer in flight is dropped.

use crate::protocol::{Mask, Variant};
use crate::Shared;
use std::collections::VecDeque;
use std::rc::Rc;

/// Frames per second are measured over the answered frames of the last this many ms.
pub const FPS_WINDOW_MS: f64 = 2000.0;
/// The three skip modes are offered side by side when one variant runs at least this fast:
/// three models a frame on two workers then still run a few frames a second (on this
/// project's 2-core machine, 7.8 frames/s alone gave 5.1 side by side: camera.spec's logs).
pub const SIDE_BY_SIDE_FPS: f64 = 6.0;
/// A frame unanswered this long is forgotten (a worker that never answers does not freeze
/// the camera): the next frame is sent.
pub const FRAME_TIMEOUT_MS: f64 = 10_000.0;

/// Why the camera is not on.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraError {
    /// `NotAllowedError`: the user or the browser refused.
    Denied,
    /// `SecurityError`: the page's permissions policy does not allow the camera.
    Blocked,
    /// `NotFoundError`, `OverconstrainedError`: no camera (none that fits).
    NotFound,
    /// `NotReadableError`, `AbortError`: the camera is in use by another application or tab.
    InUse,
    /// No `navigator.mediaDevices` and not a secure context (`isSecureContext` false).
    Insecure,
    /// No `navigator.mediaDevices` in a secure context: the browser offers no camera.
    Unsupported,
    /// A track ended while the camera was on (the camera unplugged, its permission revoked).
    Ended,
    /// Another failure.
    Other(String),
}

impl CameraError {
    /// The error for a `getUserMedia` rejection with DOMException `name` and `message`.
    pub fn from_dom(name: &str, message: &str) -> Self {
        match name {
            "NotAllowedError" | "PermissionDeniedError" => CameraError::Denied,
            "SecurityError" => CameraError::Blocked,
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" | "ConstraintNotSatisfiedError" => CameraError::NotFound,
            "NotReadableError" | "TrackStartError" | "AbortError" => CameraError::InUse,
            _ => CameraError::Other(format!("the camera could not be started ({name}: {message})")),
        }
    }

    /// The error when `navigator.mediaDevices` is missing: an insecure page, or (in a
    /// secure context) a browser without camera support.
    pub fn no_media_devices(secure_context: bool) -> Self {
        if secure_context {
            CameraError::Unsupported
        } else {
            CameraError::Insecure
        }
    }

    /// What the page says.
    pub fn message(&self) -> String {
        match self {
            CameraError::Denied => "Camera permission was denied. To allow it, click the camera or lock icon at the left of the address bar, set Camera to \u{201c}Allow\u{201d} for this site and press \u{201c}Use camera\u{201d} again (on a phone, also check that the browser may use the camera in the system settings).".into(),
            CameraError::Blocked => "The camera is blocked by this page's permissions policy (the site, or the page that embeds it, does not allow the camera): open SkipScope directly in its own tab.".into(),
            CameraError::NotFound => "No camera found: connect a camera (or enable it in the system settings) and press \u{201c}Use camera\u{201d} again.".into(),
            CameraError::InUse => "The camera is in use by another application or tab: close it and press \u{201c}Use camera\u{201d} again.".into(),
            CameraError::Insecure => "The camera needs a secure page: open SkipScope over https:// or from http://localhost (browsers offer no camera to other http:// pages).".into(),
            CameraError::Unsupported => "This browser offers no camera to web pages: open SkipScope in a current Chrome, Edge, Firefox or Safari.".into(),
            CameraError::Ended => "The camera stopped: it was disconnected, or its permission was withdrawn. Press \u{201c}Use camera\u{201d} to start it again.".into(),
            CameraError::Other(m) => format!("No camera: {m}."),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Off,
    /// Asked for (`getUserMedia` pending).
    Starting,
    On,
    Failed(CameraError),
}

/// A frame sent to the workers.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub sent_ms: f64,
    /// RGBA of the frame at the working size, `height x width x 4` (what the masks are of).
    pub rgba: Shared<Vec<u8>>,
    pub height: usize,
    pub width: usize,
    /// One run per variant, by serial, in the order shown.
    pub runs: Vec<(Variant, u32)>,
    /// The answers so far (a failed run answers `Err`).
    pub got: Vec<(Variant, Result<Shared<Mask>, String>)>,
}

/// The last frame whose every run answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub rgba: Shared<Vec<u8>>,
    pub height: usize,
    pub width: usize,
    /// Per variant, in the order the frame ran them.
    pub masks: Vec<(Variant, Result<Shared<Mask>, String>)>,
    /// From sending the frame to its last answer.
    pub ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    pub status: Status,
    /// The three skip modes side by side (asked by the user).
    pub side_by_side: bool,
    pub in_flight: Option<Frame>,
    pub shown: Option<Rc<Shown>>,
    /// Frames answered since the camera was turned on.
    pub frames: u64,
    /// When the frames of the current mode (one variant, or side by side) were answered,
    /// the last [`FPS_WINDOW_MS`] of them.
    answered: VecDeque<f64>,
    /// The variants of the frames counted in `answered` (one, or the three side by side).
    answered_of: Vec<Variant>,
    /// The last frames-per-second figure with one variant per frame, and that variant (kept
    /// while side by side runs: it decides whether side by side is offered). Of the shown
    /// dataset: [`Camera::forget_frames`] clears it.
    single_fps: Option<(Variant, f64)>,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            status: Status::Off,
            side_by_side: false,
            in_flight: None,
            shown: None,
            frames: 0,
            answered: VecDeque::new(),
            answered_of: Vec::new(),
            single_fps: None,
        }
    }
}

impl Camera {
    /// Whether the camera view replaces the photo's mask (asked for or running).
    pub fn active(&self) -> bool {
        matches!(self.status, Status::Starting | Status::On)
    }

    pub fn start(&mut self) {
        if !self.active() {
            *self = Camera { status: Status::Starting, side_by_side: self.side_by_side, single_fps: self.single_fps, ..Camera::default() };
        }
    }

    /// The camera failed while starting or on (a track ended): off, with why.
    pub fn failed(&mut self, error: CameraError) {
        if self.active() {
            *self = Camera { status: Status::Failed(error), side_by_side: self.side_by_side, single_fps: self.single_fps, ..Camera::default() };
        }
    }

    /// `getUserMedia` answered: on, or why not.
    pub fn opened(&mut self, result: Result<(), CameraError>) {
        if self.status == Status::Starting {
            self.status = match result {
                Ok(()) => Status::On,
                Err(e) => Status::Failed(e),
            };
        }
    }

    /// Off (button, Escape, another photo chosen): the frame in flight is forgotten, so its
    /// answers are dropped. An error shown stays until the next start.
    pub fn stop(&mut self) {
        if self.active() {
            *self = Camera { side_by_side: self.side_by_side, single_fps: self.single_fps, ..Camera::default() };
        }
    }

    /// The masks so far are of another model (the dataset changed) or the workers were
    /// replaced: the frame in flight and the last shown are forgotten, and so are the
    /// frames-per-second figures (they were another model's, or a cold worker's); the
    /// camera stays on.
    pub fn forget_frames(&mut self) {
        self.in_flight = None;
        self.shown = None;
        self.answered.clear();
        self.answered_of.clear();
        self.single_fps = None;
    }

    pub fn set_side_by_side(&mut self, on: bool) {
        if on != self.side_by_side {
            self.side_by_side = on;
            // The figures are per mode: a frame of the other mode is not counted.
            self.answered.clear();
        }
    }

    /// Whether the page should grab and send a frame now.
    pub fn wants_frame(&self) -> bool {
        self.status == Status::On && self.in_flight.is_none()
    }

    /// A frame was sent (its runs under their serials).
    pub fn sent(&mut self, frame: Frame) {
        if self.status == Status::On && !frame.runs.is_empty() {
            self.in_flight = Some(frame);
        }
    }

    /// At `at_ms`: the frame in flight is forgotten if it was sent [`FRAME_TIMEOUT_MS`] ago
    /// or more (its late answers are dropped).
    pub fn expire(&mut self, at_ms: f64) {
        if self.in_flight.as_ref().is_some_and(|f| at_ms - f.sent_ms >= FRAME_TIMEOUT_MS) {
            self.in_flight = None;
        }
    }

    /// Whether `serial` is a run of the frame in flight still unanswered.
    pub fn expects(&self, serial: u32) -> bool {
        self.in_flight.as_ref().is_some_and(|f| f.runs.iter().any(|(v, s)| *s == serial && !f.got.iter().any(|(w, _)| w == v)))
    }

    /// Run `serial` answered at `at_ms`; the frame completes with its last answer.
    pub fn answer(&mut self, serial: u32, mask: Result<Mask, String>, at_ms: f64) {
        if !self.expects(serial) {
            return;
        }
        let Some(f) = self.in_flight.as_mut() else { return };
        let Some(variant) = f.runs.iter().find(|(_, s)| *s == serial).map(|(v, _)| *v) else { return };
        f.got.push((variant, mask.map(|m| Shared(Rc::new(m)))));
        if f.got.len() < f.runs.len() {
            return;
        }
        let f = self.in_flight.take().expect("checked");
        let masks = f.runs.iter().filter_map(|(v, _)| f.got.iter().find(|(w, _)| w == v).cloned()).collect();
        self.shown = Some(Rc::new(Shown { rgba: f.rgba, height: f.height, width: f.width, masks, ms: at_ms - f.sent_ms }));
        self.frames += 1;
        // The figures are of one model (or one set side by side): a frame of others starts them again.
        let of: Vec<Variant> = f.runs.iter().map(|(v, _)| *v).collect();
        if of != self.answered_of {
            self.answered.clear();
            self.answered_of = of;
        }
        self.answered.push_back(at_ms);
        while self.answered.front().is_some_and(|t| at_ms - t > FPS_WINDOW_MS) {
            self.answered.pop_front();
        }
        if let [(variant, _)] = f.runs[..] {
            if let Some(fps) = self.fps() {
                self.single_fps = Some((variant, fps));
            }
        }
    }

    /// Frames per second of the current mode: the frames answered in the last
    /// [`FPS_WINDOW_MS`] over the time between the first and the last of them (none until
    /// three frames are in).
    pub fn fps(&self) -> Option<f64> {
        let (first, last) = (self.answered.front()?, self.answered.back()?);
        (self.answered.len() >= 3 && last > first).then(|| (self.answered.len() - 1) as f64 * 1000.0 / (last - first))
    }

    /// The last frames-per-second figure of `variant` alone on each frame (none: not
    /// measured since the camera showed another dataset or variant).
    pub fn single_fps(&self, variant: Variant) -> Option<f64> {
        self.single_fps.filter(|(v, _)| *v == variant).map(|(_, f)| f)
    }

    /// Whether this machine is fast enough for the three side by side: `variant` alone ran
    /// at [`SIDE_BY_SIDE_FPS`] or more (none: not measured yet).
    pub fn fast_enough(&self, variant: Variant) -> Option<bool> {
        self.single_fps(variant).map(|f| f >= SIDE_BY_SIDE_FPS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skipscope_engine::{Skip, Upsample};

    fn mask() -> Mask {
        Mask { height: 1, width: 2, classes: vec![0, 1] }
    }

    fn frame(at: f64, runs: Vec<(Variant, u32)>) -> Frame {
        Frame { sent_ms: at, rgba: Shared(Rc::new(vec![0; 8])), height: 1, width: 2, runs, got: Vec::new() }
    }

    fn on() -> Camera {
        let mut c = Camera::default();
        c.start();
        c.opened(Ok(()));
        c
    }

    const V: Variant = Variant::new(Upsample::Transposed, Skip::Concat);

    #[test]
    fn one_frame_at_a_time_and_stale_answers_are_dropped() {
        let mut c = Camera::default();
        assert!(!c.wants_frame());
        c.start();
        assert_eq!(c.status, Status::Starting);
        assert!(!c.wants_frame(), "no frame before the camera is open");
        c.opened(Ok(()));
        assert!(c.wants_frame());
        c.sent(frame(0.0, vec![(V, 7)]));
        assert!(!c.wants_frame(), "the next frame waits for this one's answer");
        assert!(!c.expects(6));
        c.answer(6, Ok(mask()), 10.0);
        assert_eq!(c.frames, 0);
        c.answer(7, Ok(mask()), 50.0);
        assert_eq!(c.frames, 1);
        assert!(c.wants_frame());
        let shown = c.shown.clone().unwrap();
        assert_eq!(shown.ms, 50.0);
        assert_eq!(shown.masks.len(), 1);
        // A second answer of the same run changes nothing.
        c.answer(7, Ok(mask()), 60.0);
        assert_eq!(c.frames, 1);
        // Stopped: the frame in flight is forgotten and its answer dropped.
        c.sent(frame(70.0, vec![(V, 8)]));
        c.stop();
        assert_eq!(c.status, Status::Off);
        assert!(!c.expects(8));
        c.answer(8, Ok(mask()), 80.0);
        assert_eq!(c.frames, 0);
        assert!(c.shown.is_none());
        // A frame unanswered for 10 s is forgotten: the next one is wanted.
        let mut c = on();
        c.sent(frame(100.0, vec![(V, 9)]));
        c.expire(100.0 + FRAME_TIMEOUT_MS - 1.0);
        assert!(c.expects(9));
        c.expire(100.0 + FRAME_TIMEOUT_MS);
        assert!(!c.expects(9) && c.wants_frame());
        c.answer(9, Ok(mask()), 100.0 + FRAME_TIMEOUT_MS + 5.0);
        assert_eq!(c.frames, 0, "its late answer is dropped");
    }

    #[test]
    fn a_side_by_side_frame_completes_with_its_last_run_in_the_order_sent() {
        let mut c = on();
        c.set_side_by_side(true);
        let runs: Vec<(Variant, u32)> = Skip::ALL.into_iter().zip([1, 2, 3]).map(|(s, n)| (V.with_skip(s), n)).collect();
        c.sent(frame(0.0, runs.clone()));
        c.answer(3, Ok(mask()), 10.0);
        c.answer(1, Err("no".into()), 20.0);
        assert!(c.shown.is_none() && !c.wants_frame());
        c.answer(2, Ok(mask()), 30.0);
        let shown = c.shown.clone().unwrap();
        let order: Vec<Variant> = shown.masks.iter().map(|(v, _)| *v).collect();
        assert_eq!(order, runs.iter().map(|(v, _)| *v).collect::<Vec<_>>());
        assert!(shown.masks[0].1.is_err());
        assert!(c.wants_frame());
    }

    #[test]
    fn fps_is_measured_over_the_last_two_seconds_and_decides_side_by_side() {
        let mut c = on();
        let mut serial = 0;
        let mut run = |c: &mut Camera, at: f64| {
            serial += 1;
            c.sent(frame(at - 5.0, vec![(V, serial)]));
            c.answer(serial, Ok(mask()), at);
        };
        run(&mut c, 0.0);
        run(&mut c, 100.0);
        assert_eq!(c.fps(), None, "two frames are not a measurement");
        assert_eq!(c.fast_enough(V), None);
        // 10 frames/s for 3 s: the window holds the last 2 s (21 frames, 20 intervals).
        for i in 2..=30 {
            run(&mut c, i as f64 * 100.0);
        }
        assert!((c.fps().unwrap() - 10.0).abs() < 1e-9, "{:?}", c.fps());
        assert_eq!(c.fast_enough(V), Some(true));
        // Then 4 frames/s: after 2 s only those count.
        for i in 1..=9 {
            run(&mut c, 3000.0 + i as f64 * 250.0);
        }
        assert!((c.fps().unwrap() - 4.0).abs() < 1e-9, "{:?}", c.fps());
        assert_eq!(c.fast_enough(V), Some(false));
        // Side by side: its own figures; the single-variant figure stays.
        c.set_side_by_side(true);
        assert_eq!(c.fps(), None);
        assert_eq!(c.fast_enough(V), Some(false));
    }

    #[test]
    fn errors_say_what_to_do() {
        assert_eq!(CameraError::from_dom("NotAllowedError", "Permission denied"), CameraError::Denied);
        assert_eq!(CameraError::from_dom("NotFoundError", "Requested device not found"), CameraError::NotFound);
        assert_eq!(CameraError::from_dom("OverconstrainedError", ""), CameraError::NotFound);
        assert!(CameraError::Denied.message().starts_with("Camera permission was denied"));
        assert!(CameraError::NotFound.message().starts_with("No camera found"));
        assert!(CameraError::Insecure.message().contains("https"));
        assert_eq!(CameraError::from_dom("NotReadableError", "Could not start video source"), CameraError::InUse);
        assert_eq!(CameraError::from_dom("AbortError", ""), CameraError::InUse);
        assert_eq!(CameraError::from_dom("SecurityError", ""), CameraError::Blocked);
        assert!(matches!(CameraError::from_dom("TypeError", "bad"), CameraError::Other(m) if m.contains("TypeError: bad")));
        assert_eq!(CameraError::InUse.message(), "The camera is in use by another application or tab: close it and press \u{201c}Use camera\u{201d} again.");
        assert!(CameraError::Blocked.message().contains("permissions policy"));
        assert_eq!(CameraError::no_media_devices(false), CameraError::Insecure);
        assert_eq!(CameraError::no_media_devices(true), CameraError::Unsupported);
        assert!(!CameraError::Unsupported.message().contains("https"), "a secure page is not told to use https");
        assert!(CameraError::Ended.message().contains("Use camera"));
        let mut c = Camera::default();
        c.start();
        c.opened(Err(CameraError::Denied));
        assert_eq!(c.status, Status::Failed(CameraError::Denied));
        assert!(!c.active() && !c.wants_frame());
        c.start();
        assert_eq!(c.status, Status::Starting, "pressing the button again asks again");
        // A track that ends turns the camera off with why; the frame in flight is forgotten.
        c.opened(Ok(()));
        c.sent(frame(0.0, vec![(V, 1)]));
        c.failed(CameraError::Ended);
        assert_eq!(c.status, Status::Failed(CameraError::Ended));
        assert!(!c.active() && !c.expects(1));
        c.failed(CameraError::InUse);
        assert_eq!(c.status, Status::Failed(CameraError::Ended), "an error comes only while the camera is on");
    }

    #[test]
    fn the_single_variant_figure_is_of_the_variant_and_dataset_shown() {
        let mut c = on();
        let mut serial = 0;
        let mut run = |c: &mut Camera, v: Variant, at: f64| {
            serial += 1;
            c.sent(frame(at - 5.0, vec![(v, serial)]));
            c.answer(serial, Ok(mask()), at);
        };
        for i in 0..5 {
            run(&mut c, V, i as f64 * 100.0);
        }
        assert!((c.single_fps(V).unwrap() - 10.0).abs() < 1e-9);
        // Another variant: its own figure, measured from its own frames only.
        let other = V.with_skip(Skip::Add);
        assert_eq!((c.single_fps(other), c.fast_enough(other)), (None, None));
        run(&mut c, other, 600.0);
        run(&mut c, other, 1100.0);
        assert_eq!(c.fps(), None, "V's frames do not count for the other variant");
        run(&mut c, other, 1600.0);
        assert!((c.single_fps(other).unwrap() - 2.0).abs() < 1e-9, "{:?}", c.single_fps(other));
        assert_eq!(c.fast_enough(other), Some(false));
        assert_eq!(c.single_fps(V), None, "one figure: the last variant's");
        // Another dataset (the same variant name): forgotten.
        c.forget_frames();
        assert_eq!((c.single_fps(other), c.fps()), (None, None));
    }
}

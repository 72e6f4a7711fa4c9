//! Switching a trained skip off at inference, pure: which decoder levels are off, the run
//! that answers it, and the skip's share of the fused value per pixel.
//!
//! An ablated network is not a network trained without a skip: its later layers were
//! trained to expect the skip, so what an ablation breaks says what those layers rely on,
//! not how well a skipless network would do (the page shows the trained skipless variant
//! beside it).

use crate::protocol::{Dataset, DecoderPlanes, Mask, Variant};
use crate::Shared;

/// What one ablation run is of: a picture, a model, and the levels switched off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AblationKey {
    pub picture_serial: u32,
    pub dataset: Dataset,
    pub variant: Variant,
    /// `off[k]`: the skip of `dec.k` is off.
    pub off: Vec<bool>,
}

/// The last ablation run asked of the worker.
#[derive(Clone, Debug, PartialEq)]
pub struct AblationRun {
    pub serial: u32,
    pub key: AblationKey,
    /// None while the worker computes it.
    pub result: Option<Result<Shared<Mask>, String>>,
}

/// The page's ablation: the levels the user switched off, and the last run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ablation {
    /// `off[k]`: the user switched the skip of `dec.k` off (missing: on).
    pub off: Vec<bool>,
    pub run: Option<AblationRun>,
}

impl Ablation {
    /// Whether level `k` is switched off.
    pub fn is_off(&self, k: usize) -> bool {
        self.off.get(k).copied().unwrap_or(false)
    }

    /// The flags with level `k` set to `off`, for a model of `depth` levels.
    pub fn with(&self, k: usize, off: bool, depth: usize) -> Vec<bool> {
        let mut flags: Vec<bool> = (0..depth).map(|i| self.is_off(i)).collect();
        if let Some(f) = flags.get_mut(k) {
            *f = off;
        }
        flags
    }

    /// Whether any level of a `depth`-level model is off.
    pub fn any_off(&self, depth: usize) -> bool {
        (0..depth).any(|k| self.is_off(k))
    }

    /// The run's result when it is of `key`.
    pub fn result_for(&self, key: &AblationKey) -> Option<&Result<Shared<Mask>, String>> {
        self.run.as_ref().filter(|r| r.key == *key).and_then(|r| r.result.as_ref())
    }

    /// Whether an answer with `serial` is awaited.
    pub fn expects(&self, serial: u32) -> bool {
        self.run.as_ref().is_some_and(|r| r.serial == serial && r.result.is_none())
    }

    /// Takes the awaited answer (ignored unless [`Self::expects`] its serial).
    pub fn answer(&mut self, serial: u32, result: Result<Shared<Mask>, String>) {
        if let Some(run) = self.run.as_mut().filter(|r| r.serial == serial && r.result.is_none()) {
            run.result = Some(result);
        }
    }
}

/// Per pixel of a decoder level, the skip's share of the fused value:
/// `sum_c |skip| / (sum_c |upsampled| + sum_c |skip|)` over the level's `C` channels (0 where
/// both are 0); none without a skip. For add the skip term is the projected encoder map, for
/// concat the encoder map itself (the stacked half).
///
/// # Shapes
/// - parts: `upsampled` and `skip` of `C x H x W`
/// - returns: `H * W` values in `0..=1`, row-major
pub fn skip_share(parts: &DecoderPlanes) -> Option<Vec<f32>> {
    let skip = parts.skip.as_ref()?;
    let s = parts.upsampled.shape;
    if skip.shape != s {
        return None;
    }
    let n = s.height * s.width;
    let (mut up, mut sk) = (vec![0f32; n], vec![0f32; n]);
    for c in 0..s.channels {
        for (i, (u, k)) in parts.upsampled.plane(c).iter().zip(skip.plane(c)).enumerate() {
            up[i] += u.abs();
            sk[i] += k.abs();
        }
    }
    Some(up.iter().zip(&sk).map(|(u, k)| if u + k > 0.0 { k / (u + k) } else { 0.0 }).collect())
}

/// The mean of a share map.
pub fn mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f32>() / values.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{MapShape, Planes};
    use skipscope_engine::{Skip, Upsample};
    use std::rc::Rc;

    #[test]
    fn the_share_is_the_skips_magnitude_over_both() {
        let shape = MapShape { channels: 2, height: 1, width: 3 };
        let planes = |values: Vec<f32>| Planes { shape, values };
        let parts = DecoderPlanes {
            upsampled: planes(vec![1.0, 0.0, -2.0, 1.0, 0.0, 0.0]),
            skip: Some(planes(vec![-2.0, 0.0, 1.0, 0.0, 0.0, 2.0])),
            fused: planes(vec![0.0; 6]),
            weights: Box::default(),
        };
        assert_eq!(skip_share(&parts).unwrap(), vec![0.5, 0.0, 0.6]);
        assert_eq!(skip_share(&DecoderPlanes { skip: None, ..parts }), None);
    }

    #[test]
    fn runs_answer_only_their_serial_and_key() {
        let key = AblationKey { picture_serial: 3, dataset: Dataset::Camvid, variant: Variant::new(Upsample::Bilinear, Skip::Add), off: vec![true, false] };
        let mut a = Ablation { off: vec![true], run: Some(AblationRun { serial: 9, key: key.clone(), result: None }) };
        assert!(a.is_off(0) && !a.is_off(1) && a.any_off(4));
        assert_eq!(a.with(2, true, 4), vec![true, false, true, false]);
        assert!(!a.expects(8) && a.expects(9));
        let mask = Shared(Rc::new(Mask { height: 1, width: 1, classes: vec![0] }));
        a.answer(8, Ok(mask.clone()));
        assert_eq!(a.result_for(&key), None);
        a.answer(9, Ok(mask.clone()));
        assert_eq!(a.result_for(&key), Some(&Ok(mask)));
        assert!(!a.expects(9));
        assert_eq!(a.result_for(&AblationKey { off: vec![false, true], ..key }), None);
    }

    #[test]
    fn the_state_asks_for_one_ablation_per_key_and_shows_its_mask() {
        use crate::state::testing::{answers, respond, showing_a_picture, traced, TA};
        use crate::state::Action;
        use crate::trace::Engine;
        use yew::Reducible;
        let mut engine = Engine::new();
        let s = traced(&mut engine, showing_a_picture(), TA, 2);
        assert_eq!(s.wanted_ablation(), None, "every skip on");
        let s = s.reduce(Action::SetAblation(vec![true, false, false, true]));
        let key = s.wanted_ablation().expect("levels are off");
        assert_eq!(key.off, vec![true, false, false, true]);
        let s = s.reduce(Action::StartAblation { serial: 3, key: key.clone() });
        assert_eq!(s.wanted_ablation(), None, "asked once");
        assert_eq!(s.ablated(), None, "running");
        let image = s.picture.as_ref().unwrap().input.clone();
        let full = s.mask().unwrap();
        let request = crate::protocol::Request::Ablate { serial: 3, dataset: key.dataset, variant: TA, image, off: key.off.clone() };
        let s = answers(&mut engine, request).into_iter().fold(s, |s, r| respond(s, r, 0.0));
        let Some(Ok(mask)) = s.ablated() else { panic!("{:?}", s.ablated()) };
        assert_eq!((mask.height, mask.width), (full.height, full.width));
        // An answer to an older run is dropped; another choice of levels wants a new run.
        let s2 = s.reduce(Action::SetAblation(vec![false, true, false, false]));
        assert!(s2.wanted_ablation().is_some() && s2.ablated().is_none());
        let back = s2.reduce(Action::SetAblation(key.off.clone()));
        assert_eq!(back.wanted_ablation(), None, "the last run is of these levels");
        assert!(back.ablated().is_some());
    }

    #[test]
    fn pointing_hovers_and_pins() {
        use crate::position::Position;
        use crate::state::testing::showing_a_picture;
        use crate::state::Action;
        use yew::Reducible;
        let s = showing_a_picture();
        let p = Position { y: 3, x: 4 };
        let hovered = s.clone().reduce(Action::Point { at: Some(p), pin: false });
        assert_eq!((hovered.position(), hovered.at), (Some(p), None));
        assert!(std::rc::Rc::ptr_eq(&hovered, &hovered.clone().reduce(Action::Point { at: Some(p), pin: false })), "the same pixel renders nothing again");
        let pinned = hovered.reduce(Action::Point { at: Some(p), pin: true });
        assert_eq!((pinned.at, pinned.hover), (Some(p), None));
        assert_eq!(pinned.url().at, Some(p));
        let q = Position { y: 9, x: 1 };
        let moved = pinned.reduce(Action::Point { at: Some(q), pin: false });
        assert_eq!((moved.position(), moved.at), (Some(q), Some(p)));
        let left = moved.reduce(Action::Point { at: None, pin: false });
        assert_eq!(left.position(), Some(p), "back to the pinned one");
    }
}

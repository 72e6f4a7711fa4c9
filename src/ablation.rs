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
    use crate::protocol::{DecoderWeights, MapShape, Planes};
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
            weights: DecoderWeights::default(),
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
}

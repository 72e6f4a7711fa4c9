use super::RgbaCanvas;
use crate::colormap::Scale;
use crate::protocol::{Planes, StageData};
use crate::Shared;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use yew::prelude::*;

/// Which of a stage's maps to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Output,
    /// Decoder stages only.
    Upsampled,
    Skip,
    Fused,
}

impl Part {
    /// What the part is called after its stage's name in a text alternative.
    pub fn suffix(self) -> &'static str {
        match self {
            Part::Output => "",
            Part::Upsampled => " upsampled",
            Part::Skip => " skip term",
            Part::Fused => " fused",
        }
    }

    pub fn planes(self, stage: &StageData) -> Option<&Planes> {
        match self {
            Part::Output => Some(&stage.planes),
            Part::Upsampled => stage.parts.as_ref().map(|p| &p.upsampled),
            Part::Skip => stage.parts.as_ref().and_then(|p| p.skip.as_ref()),
            Part::Fused => stage.parts.as_ref().map(|p| &p.fused),
        }
    }
}

/// A coloured plane kept ([`coloured`]).
struct Kept {
    /// Held, so that its address stays its own while kept.
    stage: Shared<StageData>,
    part: Part,
    channel: usize,
    scale: Option<Scale>,
    pixels: Shared<Vec<u8>>,
}

/// At most this many bytes of coloured pixels are kept (about eight traces' every channel at
/// the CamVid size), the oldest dropped first.
const KEPT_BYTES: usize = 48 << 20;

thread_local! {
    static KEPT: RefCell<VecDeque<Kept>> = const { RefCell::new(VecDeque::new()) };
}

/// One channel of a stage's map in colour, RGBA, with its width and height (empty where the
/// stage has no such map or channel): `scale`, or the channel's own range. Kept per stage,
/// part, channel and scale, so that a stage shown again, or coloured ahead
/// ([`colour_ahead`]), is not coloured again: the same pixels as colouring it now.
pub fn coloured(stage: &Shared<StageData>, part: Part, channel: usize, scale: Option<Scale>) -> (Shared<Vec<u8>>, usize, usize) {
    let Some(p) = part.planes(stage).filter(|p| channel < p.shape.channels) else { return (Shared(Rc::new(Vec::new())), 0, 0) };
    let (w, h) = (p.shape.width, p.shape.height);
    let found = KEPT
        .with(|kept| kept.borrow().iter().find(|k| k.stage == *stage && k.part == part && k.channel == channel && k.scale == scale).map(|k| k.pixels.clone()));
    if let Some(pixels) = found {
        return (pixels, w, h);
    }
    let plane = p.plane(channel);
    let pixels = Shared(Rc::new(scale.unwrap_or_else(|| Scale::of(plane)).rgba(plane)));
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        kept.push_back(Kept { stage: stage.clone(), part, channel, scale, pixels: pixels.clone() });
        let mut bytes: usize = kept.iter().map(|k| k.pixels.len()).sum();
        while bytes > KEPT_BYTES {
            let Some(old) = kept.pop_front() else { break };
            bytes -= old.pixels.len();
        }
    });
    (pixels, w, h)
}

/// Colours what switching to `stage` first shows (every channel of its output on its own
/// range, and a decoder's three parts at channel 0), for [`coloured`] to find: the page
/// calls it for each stage of a finished trace, one stage per idle turn.
pub fn colour_ahead(stage: &Shared<StageData>) {
    for c in 0..stage.planes.shape.channels {
        coloured(stage, Part::Output, c, None);
    }
    for part in [Part::Upsampled, Part::Skip, Part::Fused] {
        coloured(stage, part, 0, None);
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stage: Shared<StageData>,
    pub part: Part,
    pub channel: usize,
    /// The stage-wide scale, or none for this channel's own range.
    pub scale: Option<Scale>,
    #[prop_or_default]
    pub class: Classes,
}

/// One channel of one map as a heatmap (viridis, or diverging for signed values).
#[function_component]
pub fn Heatmap(props: &Props) -> Html {
    let pixels = use_memo((props.stage.clone(), props.part, props.channel, props.scale), |(stage, part, c, scale)| coloured(stage, *part, *c, *scale));
    let (rgba, w, h) = &*pixels;
    let label = use_memo((props.stage.clone(), props.part, props.channel), |(stage, part, c)| {
        part.planes(stage)
            .filter(|p| *c < p.shape.channels)
            .map_or_else(String::new, |p| crate::alt_text::map(&format!("{}{}", stage.name, part.suffix()), p.shape, *c, p.plane(*c)))
    });
    if rgba.is_empty() {
        return html! {};
    }
    html! {
        <RgbaCanvas pixels={rgba.clone()} width={*w} height={*h} class={classes!("heatmap", props.class.clone())}
            label={AttrValue::from((*label).clone())} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DecoderPlanes, MapShape};
    use skipscope_engine::model::StageKind;

    fn planes(c: usize, h: usize, w: usize, seed: f32) -> Planes {
        Planes { shape: MapShape { channels: c, height: h, width: w }, values: (0..c * h * w).map(|i| (i as f32 * 0.37 + seed).sin() * 3.0).collect() }
    }

    #[test]
    fn kept_colours_are_the_colours_of_now() {
        let parts = DecoderPlanes { upsampled: planes(4, 6, 10, 1.0), skip: None, fused: planes(4, 6, 10, 2.0), weights: Box::default() };
        let stage = Shared(Rc::new(StageData {
            name: "dec.1".into(),
            kind: StageKind::Decoder,
            level: 1,
            planes: planes(4, 6, 10, 0.0),
            argmax: None,
            parts: Some(parts),
            ms: 0.0,
        }));
        colour_ahead(&stage);
        let per_stage = Some(Scale::of(&stage.planes.values));
        for part in [Part::Output, Part::Upsampled, Part::Skip, Part::Fused] {
            for c in 0..5 {
                for scale in [None, per_stage] {
                    let (first, w, h) = coloured(&stage, part, c, scale);
                    let again = coloured(&stage, part, c, scale);
                    match part.planes(&stage).filter(|p| c < p.shape.channels) {
                        Some(p) => {
                            assert!(Rc::ptr_eq(&first.0, &again.0 .0), "kept: {part:?} {c}");
                            let plane = p.plane(c);
                            assert_eq!(*first.0, scale.unwrap_or_else(|| Scale::of(plane)).rgba(plane), "{part:?} {c}");
                            assert_eq!((w, h), (p.shape.width, p.shape.height));
                        }
                        None => assert!(first.is_empty() && (w, h) == (0, 0)),
                    }
                }
            }
        }
        // Another stage at the same values is another entry.
        let other = Shared(Rc::new((*stage).clone()));
        assert!(!Rc::ptr_eq(&coloured(&other, Part::Output, 0, None).0 .0, &coloured(&stage, Part::Output, 0, None).0 .0));
    }
}

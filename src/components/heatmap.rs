use super::RgbaCanvas;
use crate::colormap::Scale;
use crate::protocol::{Planes, StageData};
use crate::Shared;
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
    let pixels = use_memo((props.stage.clone(), props.part, props.channel, props.scale), |(stage, part, c, scale)| {
        let Some(p) = part.planes(stage).filter(|p| *c < p.shape.channels) else { return (Shared(Rc::new(Vec::new())), 0, 0, String::new()) };
        let plane = p.plane(*c);
        let scale = scale.unwrap_or_else(|| Scale::of(plane));
        let label = crate::alt_text::map(&format!("{}{}", stage.name, part.suffix()), p.shape, *c, plane);
        (Shared(Rc::new(scale.rgba(plane))), p.shape.width, p.shape.height, label)
    });
    let (rgba, w, h, label) = &*pixels;
    if rgba.is_empty() {
        return html! {};
    }
    html! {
        <RgbaCanvas pixels={rgba.clone()} width={*w} height={*h} class={classes!("heatmap", props.class.clone())}
            label={AttrValue::from(label.clone())} />
    }
}

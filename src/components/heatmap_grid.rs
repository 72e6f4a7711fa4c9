use super::heatmap::{Heatmap, Part};
use crate::colormap::Scale;
use crate::protocol::StageData;
use crate::state::ScaleMode;
use crate::Shared;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stage: Shared<StageData>,
    pub scale_mode: ScaleMode,
    pub selected: Option<usize>,
    /// A click on a channel: enlarge it (or shrink it back when it is the selected one).
    pub on_select: Callback<Option<usize>>,
    /// Names of the channels (the class names for the head); `ch k` otherwise.
    #[prop_or_default]
    pub labels: Vec<AttrValue>,
}

/// Every channel of the stage's output as a heatmap; each tile is a button.
#[function_component]
pub fn HeatmapGrid(props: &Props) -> Html {
    let stage_scale =
        use_memo((props.stage.clone(), props.scale_mode), |(stage, mode)| (*mode == ScaleMode::PerStage).then(|| Scale::of(&stage.planes.values)));
    let scale = *stage_scale;
    let tiles = (0..props.stage.planes.shape.channels).map(|c| {
        let selected = props.selected == Some(c);
        let onclick = {
            let on_select = props.on_select.clone();
            Callback::from(move |_| on_select.emit(if selected { None } else { Some(c) }))
        };
        let name = props.labels.get(c).cloned().unwrap_or_else(|| AttrValue::from(format!("ch {c}")));
        html! {
            <button key={c} class={classes!("tile", selected.then_some("selected"))} {onclick}
                aria-pressed={selected.to_string()} title={format!("channel {c}: click to enlarge")}>
                <Heatmap stage={props.stage.clone()} part={Part::Output} channel={c} {scale} />
                <span>{ name }</span>
            </button>
        }
    });
    html! { <div class="grid" role="group" aria-label="channels">{ for tiles }</div> }
}

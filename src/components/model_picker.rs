use crate::protocol::Dataset;
use skipscope_engine::weights::ClassInfo;
use yew::prelude::*;

/// One dataset's models as the picker shows them.
#[derive(Clone, PartialEq)]
pub struct ModelChoice {
    pub dataset: Dataset,
    pub classes: Vec<ClassInfo>,
    /// What is published: e.g. "3 trained variants; best test mIoU 42.3% (transposed-add)".
    pub summary: AttrValue,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub current: Dataset,
    pub choices: Vec<ModelChoice>,
    pub on_change: Callback<Dataset>,
}

/// Which model family the page shows: street scenes or people, each with its classes and
/// what its trained models scored. `data-dataset` names each choice.
#[function_component]
pub fn ModelPicker(props: &Props) -> Html {
    let choices = props.choices.iter().map(|choice| {
        let d = choice.dataset;
        let pressed = d == props.current;
        let onclick = props.on_change.reform(move |_| d);
        let swatches = choice.classes.iter().map(|c| {
            let [r, g, b] = c.color;
            html! { <span class="class-name"><span class="swatch" style={format!("background: rgb({r},{g},{b})")}></span>{ c.name.clone() }</span> }
        });
        html! {
            <button key={d.name()} class={classes!("model-choice", pressed.then_some("on"))} aria-pressed={pressed.to_string()} {onclick} data-dataset={d.name()}>
                <strong>{ d.title() }</strong>
                <span class="class-names" title={format!("{} classes", choice.classes.len())}>{ for swatches }</span>
                <small>{ choice.summary.clone() }</small>
            </button>
        }
    });
    html! {
        <div class="model-picker" role="group" aria-label="model">
            <span class="group-label">{ "Model" }</span>
            { for choices }
        </div>
    }
}

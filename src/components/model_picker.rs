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
    /// The published datasets, then the user's own model once a file of it is loaded.
    pub choices: Vec<ModelChoice>,
    pub on_change: Callback<Dataset>,
    /// Weights files of the family the user chose or dropped.
    pub on_open: Callback<Vec<web_sys::File>>,
    /// The files the worker is reading.
    pub opening: Vec<AttrValue>,
    /// Why the last file was refused.
    pub error: Option<AttrValue>,
}

/// The files of a file input or a drop.
fn files(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default()
}

/// Which model family the page shows: street scenes or people, each with its classes and
/// what its trained models scored, or the user's own (`data-dataset` names each choice);
/// and the button that opens the user's weights files (also by a drop on the picker).
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
    let onchange = props.on_open.reform(|e: Event| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        let chosen = files(input.files());
        input.set_value("");
        chosen
    });
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let ondrop = {
        let on_open = props.on_open.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            let chosen = files(e.data_transfer().and_then(|d| d.files()));
            if !chosen.is_empty() {
                on_open.emit(chosen);
            }
        })
    };
    html! {
        <div class="model-picker" role="group" aria-label="model" {ondragover} {ondrop}>
            <span class="group-label">{ "Model" }</span>
            { for choices }
            <label class="open-own" title="Weights files of the SkipScope family (.safetensors), one per variant: see the README's 'Train your own'">
                { "Open your own model…" }
                <input type="file" accept=".safetensors" multiple=true {onchange} aria-label="open your own model: SkipScope weights files" />
            </label>
            if !props.opening.is_empty() {
                <p class="progress-line" role="status">{ format!("Reading {}…", props.opening.join(", ")) }</p>
            }
            if let Some(e) = &props.error {
                <p class="error" role="alert">{ e.clone() }</p>
            }
        </div>
    }
}

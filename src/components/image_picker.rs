use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// `(id, caption, suits)` of each built-in sample offered: those that suit the shown
    /// model first, then those offered out of its domain.
    pub samples: Vec<(AttrValue, AttrValue, bool)>,
    /// What is said over the samples out of the model's domain.
    pub out_of_domain: AttrValue,
    pub current_sample: Option<AttrValue>,
    /// The sample or file being read.
    pub loading: Option<AttrValue>,
    /// Why the last file was refused.
    pub error: Option<AttrValue>,
    pub on_sample: Callback<String>,
    /// What photos the shown model segments well.
    pub hint: AttrValue,
    /// A file from the picker or a drop (pastes are caught page-wide by the app).
    pub on_file: Callback<File>,
}

/// Built-in samples, a file picker and a drop zone.
#[function_component]
pub fn ImagePicker(props: &Props) -> Html {
    let dragging = use_state(|| false);
    let onchange = {
        let on_file = props.on_file.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_file.emit(file);
            }
            // Choosing the same file again must fire `change` again.
            input.set_value("");
        })
    };
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let ondrop = {
        let (dragging, on_file) = (dragging.clone(), props.on_file.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                on_file.emit(file);
            }
        })
    };
    let button = |(id, caption, _): &(AttrValue, AttrValue, bool)| {
        let current = props.current_sample.as_ref() == Some(id);
        let onclick = {
            let (cb, id) = (props.on_sample.clone(), id.to_string());
            Callback::from(move |_| cb.emit(id.clone()))
        };
        html! {
            <button key={id.to_string()} class={classes!("sample", current.then_some("on"))} aria-pressed={current.to_string()} {onclick}
                data-sample={id.clone()} title={caption.clone()}>
                <img src={format!("samples/{id}.jpg")} alt={caption.clone()} width="72" height="54" />
                <span>{ id.clone() }</span>
            </button>
        }
    };
    let suited = props.samples.iter().filter(|s| s.2).map(button);
    let others: Vec<Html> = props.samples.iter().filter(|s| !s.2).map(button).collect();
    html! {
        <section class="picker" aria-label="choose a photo">
            <div class="samples" role="group" aria-label="photos that suit the model">{ for suited }</div>
            if !others.is_empty() {
                <div class="samples out-of-domain" role="group" aria-label={props.out_of_domain.clone()}>
                    <span class="hint">{ props.out_of_domain.clone() }{ ":" }</span>
                    { for others }
                </div>
            }
            <div class={classes!("dropzone", dragging.then_some("dragging"))} {ondragover} {ondragleave} {ondrop}>
                <label>
                    { "Your photo: " }
                    <input type="file" accept="image/*" {onchange} aria-label="upload a photo" />
                </label>
                <span class="hint">{ " or drop it here, or paste it (Ctrl+V). " }{ props.hint.clone() }</span>
            </div>
            if let Some(name) = &props.loading {
                <p class="status running" role="status">{ format!("Reading {name}…") }</p>
            }
            if let Some(error) = &props.error {
                <p class="error" role="alert">{ error.clone() }<br/><small>{ "The previous photo and its results are kept." }</small></p>
            }
        </section>
    }
}

use crate::manifest::ManifestEntry;
use crate::protocol::{Dataset, ModelSummary, Variant};
use crate::state::{Catalog, Weights};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub dataset: Dataset,
    pub variant: Variant,
    pub catalog: Rc<Catalog>,
    /// The manifest's entry for the variant, if any.
    pub entry: Option<ManifestEntry>,
    pub weights: Option<Weights>,
    /// The model that produced what is shown.
    pub model: Option<ModelSummary>,
    /// Download the failed weights again.
    #[prop_or_default]
    pub on_retry: Callback<()>,
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_048_576.0)
}

/// Which weights the shown model has: a download progress bar, the trained model's test
/// scores, or a clear warning that the weights are random.
#[function_component]
pub fn ModelBanner(props: &Props) -> Html {
    let v = props.variant;
    let random_why = match (&*props.catalog, &props.weights) {
        (Catalog::Missing(why), _) => Some(format!("no trained weights are published yet ({why})")),
        (Catalog::Ready(m), _) if !m.models.iter().any(|e| e.dataset == props.dataset) => {
            Some(format!("no trained weights are published yet for {}", props.dataset.title()))
        }
        (_, Some(Weights::Failed(why))) => Some(format!("the weights of {v} could not be loaded: {why}")),
        _ => None,
    };
    let progress = match &props.weights {
        Some(Weights::Fetching { loaded, total }) => {
            let total = total.or(props.entry.as_ref().map(|e| e.bytes as f64));
            let (value, max) = (loaded.to_string(), total.map(|t| t.to_string()));
            Some(html! {
                <p class="progress-line" role="status">
                    { format!("Downloading the weights of {v}: {}", mb(*loaded)) }
                    { total.map(|t| format!(" of {}", mb(t))).unwrap_or_default() }
                    <progress {value} max={max.unwrap_or_default()} aria-label="weights download"></progress>
                </p>
            })
        }
        Some(Weights::Loading { .. }) => Some(html! { <p class="progress-line" role="status">{ format!("Reading the weights of {v}…") }</p> }),
        _ => None,
    };
    let trained = props.model.as_ref().filter(|m| m.trained && m.variant == v && m.dataset == props.dataset).zip(props.entry.as_ref()).map(|(m, e)| {
        let t = &e.test;
        html! {
            <p class="trained">
                <strong>{ format!("Trained model {v}") }</strong>
                { format!(": {} parameters, {} epochs on {} at {} x {}; test set: G {:.1}%, mIoU {:.1}%, BF {}.",
                    m.parameters, e.epochs, props.dataset.title(), e.working_size[0], e.working_size[1], 100.0 * t.g, 100.0 * t.miou,
                    t.bf.map(|b| format!("{:.1}%", 100.0 * b)).unwrap_or_else(|| "n/a".into())) }
            </p>
        }
    });
    let own = props.model.as_ref().filter(|m| m.trained && m.variant == v && m.dataset == Dataset::Own && props.dataset == Dataset::Own).map(|m| {
        html! {
            <p class="trained own">
                <strong>{ format!("Your model {v}") }</strong>
                { format!(": {} parameters, depth {}, width {}, {} classes, run at {} x {}; {}. It stays in this tab: a reload or a shared link shows the published models.",
                    m.parameters, m.depth, m.width, m.classes.len(), m.working_size[0], m.working_size[1],
                    m.scores.clone().map(|s| format!("its file reports {s}")).unwrap_or_else(|| "its file reports no scores".into())) }
            </p>
        }
    });
    let random_shown = props.model.as_ref().is_some_and(|m| !m.trained && m.variant == v && m.dataset == props.dataset);
    html! {
        <div class="banner">
            { progress.unwrap_or_default() }
            if random_shown {
                <p class="warning" role="note">
                    <strong>{ "Random weights: " }</strong>
                    { format!("{}. This {v} model is randomly initialised (seed {}), so its mask means nothing; the stages still show what each operation does.",
                        random_why.unwrap_or_else(|| "no trained weights for this variant".into()), crate::trace::RANDOM_SEED) }
                </p>
            }
            if let Some(Weights::Failed(why)) = props.weights.as_ref().filter(|w| **w != Weights::Failed(crate::state::ENGINE_STOPPED.into())) {
                <p class="retry-line" role="alert">
                    { format!("The weights of {v} could not be loaded: {why}. ") }
                    <button class="retry" onclick={props.on_retry.reform(|_| ())}>{ "Download them again" }</button>
                </p>
            }
            { trained.unwrap_or_default() }
            { own.unwrap_or_default() }
        </div>
    }
}

use crate::manifest::ManifestEntry;
use crate::protocol::{Dataset, Variant};
use skipscope_engine::{Skip, Upsample};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub dataset: Dataset,
    /// The manifest's entries of the dataset.
    pub entries: Vec<ManifestEntry>,
    pub variant: Variant,
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

/// The published variants' test-set scores, by upsampler and skip, with what G, C, mIoU and
/// BF mean in plain words.
#[function_component]
pub fn ScoreTable(props: &Props) -> Html {
    if props.entries.is_empty() {
        let why = if props.dataset == Dataset::Own {
            "Your model's files are not scored on a shared test set here (the banner says what each file reports); the published models' tables are under their own datasets.".to_string()
        } else {
            format!("No trained {} models are published yet: no test scores.", props.dataset.title())
        };
        return html! { <p class="hint" data-focus="scores">{ why }</p> };
    }
    let images = props.entries.iter().map(|e| e.test.images).max().unwrap_or(0);
    let rows = Upsample::ALL.into_iter().flat_map(|u| Skip::ALL.into_iter().map(move |s| (u, s))).map(|(u, s)| {
        let v = Variant::new(u, s);
        let shown = v == props.variant;
        match props.entries.iter().find(|e| e.upsample == u && e.skip == s) {
            Some(e) => {
                let t = &e.test;
                html! {
                    <tr key={v.to_string()} data-variant={v.to_string()} class={classes!(shown.then_some("shown"))}>
                        <td>{ u.name() }</td><td>{ s.name() }</td>
                        <td class="num">{ pct(t.g) }</td><td class="num">{ pct(t.c) }</td><td class="num">{ pct(t.miou) }</td>
                        <td class="num bf">{ t.bf.map(pct).unwrap_or_else(|| "n/a".into()) }</td>
                        <td class="num">{ format!("{:.2}M", e.parameters as f64 / 1e6) }</td>
                    </tr>
                }
            }
            None => html! {
                <tr key={v.to_string()} data-variant={v.to_string()} class="missing"><td>{ u.name() }</td><td>{ s.name() }</td><td colspan="5">{ "not published yet" }</td></tr>
            },
        }
    });
    html! {
        // Focusable: on a phone the table scrolls sideways inside it, by keyboard too.
        <section class="score-table" data-focus="scores" aria-label="test-set scores" tabindex="0">
            <table class="scores">
                <caption>{ format!("{} test set ({images} images): scores of every variant, in %", props.dataset.title()) }</caption>
                <thead><tr><th>{ "upsampler" }</th><th>{ "skip" }</th><th>{ "G" }</th><th>{ "C" }</th><th>{ "mIoU" }</th><th>{ "BF" }</th><th>{ "params" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            <ul class="glossary">
                <li><b>{ "G" }</b>{ " (global accuracy): the share of all test pixels given their true class. Large classes such as road and sky dominate it." }</li>
                <li><b>{ "C" }</b>{ " (class accuracy): the same share computed for each class, then averaged, so a thin pole counts as much as the road." }</li>
                <li><b>{ "mIoU" }</b>{ " (mean intersection over union): for each class, the overlap of the predicted and the true region divided by their union; averaged over the classes." }</li>
                <li><b>{ "BF" }</b>{ " (boundary F1): how many predicted boundary pixels lie near a true boundary, and how many true boundary pixels near a predicted one (within 0.75% of the image diagonal), combined and averaged over images. The score of edges: where a skip helps most." }</li>
            </ul>
        </section>
    }
}

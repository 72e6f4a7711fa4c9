use skipscope_engine::weights::ClassInfo;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub classes: Vec<ClassInfo>,
    /// Pixels per class in the mask (same order), to show each class's share.
    pub counts: Vec<usize>,
}

/// The class colours with each class's share of the mask; absent classes are dimmed.
#[function_component]
pub fn Legend(props: &Props) -> Html {
    let total: usize = props.counts.iter().sum::<usize>().max(1);
    let items = props.classes.iter().enumerate().map(|(i, c)| {
        let n = props.counts.get(i).copied().unwrap_or(0);
        let [r, g, b] = c.color;
        html! {
            <li key={i} class={classes!((n == 0).then_some("absent"))}>
                <span class="swatch" style={format!("background: rgb({r},{g},{b})")}></span>
                { c.name.clone() }
                <small>{ format!(" {:.1}%", 100.0 * n as f64 / total as f64) }</small>
            </li>
        }
    });
    html! { <ul class="legend" aria-label="classes">{ for items }</ul> }
}

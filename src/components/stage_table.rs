use crate::protocol::StageSummary;
use skipscope_engine::model::StageKind;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stages: Vec<StageSummary>,
}

/// Every stage of the forward pass with its map shape and time, in network order.
#[function_component]
pub fn StageTable(props: &Props) -> Html {
    let rows = props.stages.iter().enumerate().map(|(i, s)| {
        html! {
            <tr key={s.name.clone()} class={kind_name(s.kind)}>
                <td class="num">{ i }</td>
                <td><code>{ &s.name }</code></td>
                <td>{ kind_name(s.kind) }</td>
                <td class="num">{ s.level }</td>
                <td class="num"><code>{ s.shape.to_string() }</code></td>
                <td class="num">{ format!("{:.1}", s.ms) }</td>
            </tr>
        }
    });
    html! {
        <table class="stages">
            <thead>
                <tr>
                    <th>{ "#" }</th>
                    <th>{ "stage" }</th>
                    <th>{ "kind" }</th>
                    <th>{ "level" }</th>
                    <th>{ "shape (C x H x W)" }</th>
                    <th>{ "ms" }</th>
                </tr>
            </thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

fn kind_name(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Input => "input",
        StageKind::Encoder => "encoder",
        StageKind::Pool => "pool",
        StageKind::Bottleneck => "bottleneck",
        StageKind::Decoder => "decoder",
        StageKind::Head => "head",
    }
}

use crate::protocol::ModelSummary;
use crate::state::Status;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub status: Status,
    pub model: Option<ModelSummary>,
    /// Stages received so far in this run.
    pub stages: usize,
}

/// One line: what the worker is doing, or how long the forward pass took.
#[function_component]
pub fn StatusLine(props: &Props) -> Html {
    let model = props.model.as_ref().map(|m| {
        let build = if m.reused { ", reused".into() } else { format!(", built in {:.0} ms", m.build_ms) };
        format!(" Model {}: {} parameters{build}.", m.variant, group_thousands(m.parameters))
    });
    let (class, text) = match &props.status {
        Status::Idle => ("status", "Not run yet.".to_string()),
        Status::Running => ("status running", format!("running… ({} stages so far)", props.stages)),
        Status::Done { forward_ms } => ("status done", format!("Forward pass: {forward_ms:.1} ms for {} stages.", props.stages)),
        Status::Failed(message) => ("status failed", format!("Error: {message}")),
    };
    html! {
        <p class={class} role="status">{ text }{ model.unwrap_or_default() }</p>
    }
}

fn group_thousands(n: usize) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits.rchunks(3).rev().map(|g| g.iter().collect()).collect();
    groups.join(",")
}

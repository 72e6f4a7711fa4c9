use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Running: stages so far; done: forward time; failed: the message.
    pub running: bool,
    pub stages: usize,
    pub total_stages: usize,
    /// The mask's forward pass, and the traced one (every stage), in the worker.
    pub mask_ms: Option<f64>,
    pub forward_ms: Option<f64>,
    pub error: Option<AttrValue>,
    /// The last measured request-to-mask time and what it measured.
    pub latency: Option<(AttrValue, f64)>,
    /// What nothing runs for yet, e.g. "Waiting for a photo and a model."
    pub waiting: AttrValue,
}

/// One line: what the worker is doing, how long the mask's forward pass and the traced
/// one took, and the last
/// request-to-mask time (exposed as `data-latency-ms` for the speed test).
#[function_component]
pub fn StatusLine(props: &Props) -> Html {
    let (class, text) = if let Some(e) = &props.error {
        ("status failed", format!("Error: {e}"))
    } else if props.running {
        let mask = props.mask_ms.map(|m| format!("Mask in {m:.0} ms; tracing")).unwrap_or_else(|| "Running".into());
        ("status running", format!("{mask} in the worker… {} of {} stages.", props.stages, props.total_stages))
    } else if let Some(ms) = props.forward_ms {
        let mask = props.mask_ms.map(|m| format!("Mask in {m:.0} ms; every stage")).unwrap_or_else(|| "Every stage".into());
        ("status done", format!("{mask} traced in {ms:.0} ms ({} stages).", props.stages))
    } else {
        ("status", props.waiting.to_string())
    };
    let latency = props.latency.as_ref().map(|(what, ms)| format!(" Last {what}: {ms:.0} ms."));
    html! {
        <p class={class} role="status" data-running={props.running.to_string()}
            data-latency-ms={props.latency.as_ref().map(|(_, ms)| format!("{ms:.1}"))}
            data-latency-what={props.latency.as_ref().map(|(w, _)| w.clone())}>
            { text }{ latency.unwrap_or_default() }
        </p>
    }
}

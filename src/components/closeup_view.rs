use crate::closeup::{self, Ctx, PoolCloseup, SkipCloseup, UpCloseup};
use crate::position::Position;
use crate::protocol::{StageData, Variant};
use crate::Shared;
use skipscope_engine::model::StageKind;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stages: Vec<Shared<StageData>>,
    pub variant: Variant,
    pub depth: usize,
    /// The network input's `(height, width)`, padding included.
    pub full: (usize, usize),
    pub selected: AttrValue,
    pub channel: Option<usize>,
    pub position: Position,
    pub on_select: Callback<String>,
}

fn num(v: f32) -> String {
    format!("{v:.4}")
}

fn opt(v: Option<f32>) -> String {
    v.map(num).unwrap_or_else(|| "—".into())
}

/// The note for values the page does not hold.
const PADDING: &str = "— lies in the padding beyond the photo's bottom or right edge, which the page does not hold, so no sum is shown.";

fn window(cells: [Option<f32>; 4], hot: u8, marked: Option<u8>, label: &str) -> Html {
    let cell = |i: usize| {
        let classes = classes!("w-cell", (i == hot as usize).then_some("hot"), (marked == Some(i as u8)).then_some("here"));
        html! { <td class={classes}>{ opt(cells[i]) }</td> }
    };
    html! {
        <table class="window" aria-label={label.to_string()}>
            <tr>{ cell(0) }{ cell(1) }</tr>
            <tr>{ cell(2) }{ cell(3) }</tr>
        </table>
    }
}

fn pool_html(p: &PoolCloseup) -> Html {
    let (dy, dx) = (p.argmax / 2, p.argmax % 2);
    let missing = p.window.iter().any(Option::is_none);
    html! {
        <div class="closeup" data-kind="pool">
            <h4>{ format!("pool.{} · channel {} at ({}, {})", p.k, p.channel, p.at.0, p.at.1) }</h4>
            <p>{ format!("The 2×2 window of enc.{} at rows {}–{}, columns {}–{}:", p.k, p.window_at.0, p.window_at.0 + 1, p.window_at.1, p.window_at.1 + 1) }</p>
            { window(p.window, p.argmax, None, "pooling window") }
            <p>{ format!("The maximum, {}, was at row {}, column {} of the window (the recorded index {}); the output keeps it and forgets where it was: ", num(p.output), dy, dx, p.argmax) }
                <strong class="result">{ format!("pool.{} = {}", p.k, num(p.output)) }</strong></p>
            if missing { <p class="hint">{ PADDING }</p> }
        </div>
    }
}

fn up_html(u: &UpCloseup) -> Html {
    match u {
        UpCloseup::Unpool(u) => {
            let goes_here = u.argmax == u.cell;
            html! {
                <div class="closeup" data-kind="unpool">
                    <h4>{ format!("dec.{} max unpooling · channel {} at ({}, {})", u.k, u.channel, u.at.0, u.at.1) }</h4>
                    <p>{ format!("{} at ({}, {}) holds {}; pool.{} recorded that the maximum of its window was at row {}, column {}, so the value goes back there and the other three positions get 0:",
                        u.deep_name, u.deep_at.0, u.deep_at.1, num(u.deep_value), u.k, u.argmax / 2, u.argmax % 2) }</p>
                    { window(u.window, u.argmax, Some(u.cell), "unpooled window") }
                    <p>{ if goes_here { "The selected position (outlined) is where the maximum was: " } else { "The selected position (outlined) is one of the three zeros: " } }
                        <strong class="result">{ format!("upsampled = {}", num(u.value)) }</strong></p>
                    if u.window.iter().any(Option::is_none) { <p class="hint">{ PADDING }</p> }
                </div>
            }
        }
        UpCloseup::Transposed(t) => {
            let rows = t.taps.iter().map(|tap| {
                html! { <tr>
                    <td>{ format!("({}, {})", tap.at.0, tap.at.1) }</td>
                    <td>{ format!("({}, {})", tap.kernel.0, tap.kernel.1) }</td>
                    <td>{ tap.own.map(|(d, w)| format!("{} × {}", num(d), num(w))).unwrap_or_else(|| "—".into()) }</td>
                    <td class="num">{ opt(tap.contribution) }</td>
                </tr> }
            });
            html! {
                <div class="closeup" data-kind="transposed">
                    <h4>{ format!("dec.{} transposed convolution · channel {} at ({}, {})", t.k, t.channel, t.at.0, t.at.1) }</h4>
                    <p>{ format!("A 4×4 kernel with stride 2 and padding 1: output row y takes input rows i with kernel row y + 1 − 2i in 0–3, so {} input position{} of {} make this value. Each contributes the sum over its {} channels of value × weight[channel, ky, kx, {}]:",
                        t.taps.len(), if t.taps.len() == 1 { "" } else { "s" }, t.deep_name, t.channels, t.channel) }</p>
                    <table class="taps">
                        <tr><th>{ format!("{} at", t.deep_name) }</th><th>{ "kernel (ky, kx)" }</th><th>{ format!("channel {} alone: value × weight", t.channel) }</th><th>{ format!("all {} channels", t.channels) }</th></tr>
                        { for rows }
                        <tr><td colspan="3">{ "bias" }</td><td class="num">{ num(t.bias) }</td></tr>
                        <tr class="total"><td colspan="3">{ "sum" }</td><td class="num">{ opt(t.sum) }</td></tr>
                    </table>
                    <p><strong class="result">{ format!("upsampled = {}", num(t.value)) }</strong>{ " (as the worker computed it)" }</p>
                    if t.sum.is_none() { <p class="hint">{ PADDING }</p> }
                </div>
            }
        }
        UpCloseup::Bilinear(b) => {
            let rows = b.taps.iter().map(|tap| html! { <tr>
                <td>{ format!("({}, {})", tap.at.0, tap.at.1) }</td><td class="num">{ format!("{:.4}", tap.weight) }</td><td class="num">{ opt(tap.value) }</td>
            </tr> });
            html! {
                <div class="closeup" data-kind="bilinear">
                    <h4>{ format!("dec.{} bilinear ×2 · channel {} at ({}, {})", b.k, b.channel, b.at.0, b.at.1) }</h4>
                    <p>{ format!("align_corners=False: output row y samples {} at (y + 0.5) / 2 − 0.5 (at least 0), here ({:.2}, {:.2}); the four neighbours are weighted by closeness (nothing learned):", b.deep_name, b.source.0, b.source.1) }</p>
                    <table class="taps">
                        <tr><th>{ format!("{} at", b.deep_name) }</th><th>{ "weight" }</th><th>{ "value" }</th></tr>
                        { for rows }
                        <tr class="total"><td colspan="2">{ "weighted sum" }</td><td class="num">{ opt(b.sum) }</td></tr>
                    </table>
                    <p><strong class="result">{ format!("upsampled = {}", num(b.value)) }</strong></p>
                    if b.sum.is_none() { <p class="hint">{ PADDING }</p> }
                </div>
            }
        }
    }
}

/// How many of the 1x1's terms are listed before the rest is summed.
const TERMS: usize = 6;

fn skip_html(s: &SkipCloseup) -> Html {
    match s {
        SkipCloseup::Add { k, channel, at, upsampled, skip, fused, bias, contributions, sum } => {
            let rows = contributions.iter().take(TERMS).map(|c| html! { <tr>
                <td>{ format!("enc.{k} ch {}", c.channel) }</td><td class="num">{ num(c.input) }</td><td class="num">{ num(c.weight) }</td><td class="num">{ num(c.product()) }</td>
            </tr> });
            let rest: f32 = contributions.iter().skip(TERMS).map(|c| c.product()).sum();
            let n_rest = contributions.len().saturating_sub(TERMS);
            html! {
                <div class="closeup" data-kind="add">
                    <h4>{ format!("dec.{k} skip, added · channel {channel} at ({}, {})", at.0, at.1) }</h4>
                    <p>{ format!("The skip term is a 1×1 convolution of enc.{k} at this position: the sum over its {} channels of value × weight, plus a bias. The largest terms:", contributions.len()) }</p>
                    <table class="taps">
                        <tr><th>{ "channel" }</th><th>{ "value" }</th><th>{ "weight" }</th><th>{ "term" }</th></tr>
                        { for rows }
                        if n_rest > 0 { <tr><td colspan="3">{ format!("the other {n_rest} channels") }</td><td class="num">{ num(rest) }</td></tr> }
                        <tr><td colspan="3">{ "bias" }</td><td class="num">{ num(*bias) }</td></tr>
                        <tr class="total"><td colspan="3">{ "skip term" }</td><td class="num">{ num(*sum) }</td></tr>
                    </table>
                    <p class="equation"><strong class="result">{ format!("upsampled {} + skip {} = fused {}", num(*upsampled), num(*skip), num(*fused)) }</strong></p>
                </div>
            }
        }
        SkipCloseup::Concat { k, channel, at, channels, upsampled, encoder, stacked_up, stacked_skip } => html! {
            <div class="closeup" data-kind="concat">
                <h4>{ format!("dec.{k} skip, stacked · channel {channel} at ({}, {})", at.0, at.1) }</h4>
                <p>{ format!("Nothing is added: the stack has {} channels. Channels 0–{} are the upsampled map, channels {}–{} are enc.{k}, unchanged. At this position:", 2 * channels, channels - 1, channels, 2 * channels - 1) }</p>
                <table class="taps">
                    <tr><th>{ "stack channel" }</th><th>{ "comes from" }</th><th>{ "value" }</th></tr>
                    <tr><td>{ channel.to_string() }</td><td>{ format!("upsampled ch {channel} ({})", num(*upsampled)) }</td><td class="num">{ num(*stacked_up) }</td></tr>
                    <tr><td>{ (channels + channel).to_string() }</td><td>{ format!("enc.{k} ch {channel} ({})", num(*encoder)) }</td><td class="num">{ num(*stacked_skip) }</td></tr>
                </table>
                <p class="hint">{ format!("The next 3×3 convolution weighs all {} channels of the 3×3 neighbourhood: that is where the two are combined.", 2 * channels) }</p>
            </div>
        },
    }
}

/// The selected stage's close-ups at the position, with the numbers of the trace and the
/// weights as run; computed on the main thread at every pointer move (a few hundred
/// multiply-adds).
#[function_component]
pub fn CloseupView(props: &Props) -> Html {
    let ctx = Ctx { stages: &props.stages, variant: props.variant, depth: props.depth, full: props.full };
    let name = props.selected.as_str();
    let channel = props.channel.unwrap_or(0);
    let Some(stage) = props.stages.iter().find(|s| s.name == name) else {
        return html! { <p class="hint">{ format!("{name}: not computed yet.") }</p> };
    };
    let body = match stage.kind {
        StageKind::Pool => closeup::pool(&ctx, name, channel, props.position).map(|p| pool_html(&p)),
        StageKind::Decoder => {
            let up = closeup::upsample(&ctx, name, channel, props.position).map(|u| up_html(&u));
            let skip = closeup::skip(&ctx, name, channel, props.position).map(|s| skip_html(&s));
            let none = (props.variant.skip == skipscope_engine::Skip::None)
                .then(|| html! { <p class="hint">{ "No skip: the block sees the upsampled map alone." }</p> });
            Some(html! { <>{ up.unwrap_or_default() }{ skip.or(none).unwrap_or_default() }</> })
        }
        _ => None,
    };
    let level = stage.level;
    let jump = |to: String| {
        let cb = props.on_select.clone();
        let label = to.clone();
        html! { <button class="small" onclick={Callback::from(move |_| cb.emit(to.clone()))}>{ label }</button> }
    };
    match body {
        Some(b) => html! { <div class="closeups" aria-label="close-ups">{ b }</div> },
        None => html! {
            <div class="closeups" aria-label="close-ups">
                <p class="hint">{ format!("Close-ups show how pooling and the decoder's upsampling and skip compute a value. {name} is a convolution stage; pick one of these at this resolution: ") }
                    if level > 0 && level <= props.depth { { jump(format!("pool.{}", level - 1)) } }
                    if level < props.depth { { jump(format!("dec.{level}")) } }
                </p>
            </div>
        },
    }
}

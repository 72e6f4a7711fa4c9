//! The loss chart: one curve per model, losses against steps, drawn as SVG.

use crate::Shared;
use yew::prelude::*;

/// The chart's drawing area in SVG units.
const W: f64 = 600.0;
const H: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;
/// The most points a curve is drawn with; longer runs average consecutive steps.
pub const MAX_POINTS: usize = 300;

/// The polyline points of `losses` (steps from 1) in a chart of `steps` steps and losses
/// up to `y_max`: consecutive steps averaged into at most [`MAX_POINTS`] points.
pub fn points(losses: &[f32], steps: usize, y_max: f64) -> String {
    if losses.is_empty() || steps == 0 || y_max <= 0.0 {
        return String::new();
    }
    let per = losses.len().div_ceil(MAX_POINTS);
    let x = |step: f64| LEFT + (W - LEFT - 8.0) * step / steps as f64;
    let y = |loss: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (loss / y_max).clamp(0.0, 1.0));
    losses
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let mean = chunk.iter().map(|&l| l as f64).sum::<f64>() / chunk.len() as f64;
            let middle = (i * per) as f64 + (chunk.len() as f64 + 1.0) / 2.0;
            format!("{:.1},{:.1}", x(middle), y(mean))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A round upper end for the loss axis: the largest loss, up to the next 0.5.
pub fn y_max(curves: &[Shared<Vec<f32>>]) -> f64 {
    let max = curves.iter().flat_map(|c| c.iter()).fold(0.0f64, |m, &l| m.max(l as f64));
    ((max * 2.0).ceil() / 2.0).max(0.5)
}

#[derive(Properties, PartialEq)]
pub struct Props {
    /// `(name, css class, losses)` per curve.
    pub curves: Vec<(AttrValue, AttrValue, Shared<Vec<f32>>)>,
}

#[function_component]
pub fn LossChart(props: &Props) -> Html {
    let losses: Vec<Shared<Vec<f32>>> = props.curves.iter().map(|(_, _, l)| l.clone()).collect();
    let steps = losses.iter().map(|l| l.len()).max().unwrap_or(0).max(10);
    let top = y_max(&losses);
    let per = steps.div_ceil(MAX_POINTS);
    let axis_y = H - BOTTOM;
    let description = props.curves.iter().map(|(name, _, l)| format!("{name}: {} steps", l.len())).collect::<Vec<_>>().join(", ");
    html! {
        <figure class="loss-chart">
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label={format!("training loss per step ({description})")}>
                <line class="axis" x1={LEFT.to_string()} y1={TOP.to_string()} x2={LEFT.to_string()} y2={axis_y.to_string()} />
                <line class="axis" x1={LEFT.to_string()} y1={axis_y.to_string()} x2={(W - 8.0).to_string()} y2={axis_y.to_string()} />
                { for [0.0, 0.5, 1.0].into_iter().map(|f| {
                    let y = TOP + (H - TOP - BOTTOM) * (1.0 - f);
                    html! { <>
                        <line class="grid" x1={LEFT.to_string()} y1={y.to_string()} x2={(W - 8.0).to_string()} y2={y.to_string()} />
                        <text class="tick" x={(LEFT - 4.0).to_string()} y={(y + 4.0).to_string()} text-anchor="end">{ format!("{:.2}", top * f) }</text>
                    </> }
                }) }
                <text class="tick" x={LEFT.to_string()} y={(H - 4.0).to_string()}>{ "0" }</text>
                <text class="tick" x={(W - 8.0).to_string()} y={(H - 4.0).to_string()} text-anchor="end">{ format!("{steps} steps") }</text>
                { for props.curves.iter().map(|(name, class, l)| html! {
                    <polyline class={classes!("curve", class.to_string())} data-name={name.clone()} points={points(l, steps, top)} />
                }) }
            </svg>
            <figcaption>
                { for props.curves.iter().map(|(name, class, _)| html! { <span class={classes!("key", class.to_string())}>{ name.clone() }</span> }) }
                <span class="hint">
                    { "Cross-entropy of each training batch, against the step." }
                    if per > 1 { { format!(" Each point averages {per} steps.") } }
                </span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn curves_are_averaged_down_to_at_most_max_points() {
        assert_eq!(points(&[], 10, 1.0), "");
        let two = points(&[1.0, 0.0], 2, 1.0);
        assert_eq!(two, format!("{:.1},{:.1} {:.1},{:.1}", LEFT + (W - LEFT - 8.0) * 0.5, TOP, W - 8.0, H - BOTTOM));
        let long: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        assert!(points(&long, 1000, 1000.0).split(' ').count() <= MAX_POINTS);
        assert_eq!(y_max(&[Shared(Rc::new(vec![1.07, 0.3]))]), 1.5);
        assert_eq!(y_max(&[]), 0.5);
    }
}

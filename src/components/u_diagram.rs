use crate::protocol::{MapShape, Variant};
use skipscope_engine::{Skip, Upsample};
use std::collections::HashMap;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub depth: usize,
    pub variant: Variant,
    /// Shapes of the stages computed so far (by name).
    pub shapes: HashMap<String, MapShape>,
    pub selected: AttrValue,
    pub on_select: Callback<String>,
}

const DX: f64 = 82.0;
const DY: f64 = 64.0;
const NODE_W: f64 = 74.0;
const NODE_H: f64 = 40.0;
const TOP: f64 = 14.0;
const LEFT: f64 = 8.0;

/// Where each stage's box goes: encoder stages step down to the right, the decoder climbs
/// back up; a row is a resolution level (pool.k sits on row k + 1, under enc.k).
fn layout(depth: usize) -> Vec<(String, &'static str, f64, usize)> {
    let mut nodes = vec![("input".to_string(), "input", 0.0, 0)];
    for k in 0..depth {
        nodes.push((format!("enc.{k}"), "conv ×2", 1.0 + k as f64, k));
        nodes.push((format!("pool.{k}"), "max pool", 1.0 + k as f64, k + 1));
    }
    nodes.push(("bottleneck".into(), "conv ×2", 1.0 + depth as f64, depth));
    for k in (0..depth).rev() {
        nodes.push((format!("dec.{k}"), "up + conv", 1.0 + depth as f64 + (depth - k) as f64, k));
    }
    nodes.push(("head".into(), "1×1 + softmax", 2.0 + 2.0 * depth as f64, 0));
    nodes
}

/// The network drawn as a U. Skip links run across each level: absent without skips, a
/// 1×1 box and a ⊕ for add, a stacking bar ‖ for concat; for max unpooling, a thin dotted
/// arrow from each pool.k to dec.k carries only the argmax indices. Every node is a button.
#[function_component]
pub fn UDiagram(props: &Props) -> Html {
    let depth = props.depth;
    let nodes = layout(depth);
    let pos: HashMap<&str, (f64, f64)> = nodes.iter().map(|(n, _, col, row)| (n.as_str(), (LEFT + col * DX, TOP + *row as f64 * DY))).collect();
    let width = LEFT * 2.0 + (2.0 + 2.0 * depth as f64) * DX + NODE_W;
    let height = TOP * 2.0 + depth as f64 * DY + NODE_H;
    let center = |name: &str| pos.get(name).map(|(x, y)| (x + NODE_W / 2.0, y + NODE_H / 2.0)).unwrap_or_default();
    let mut edges = Vec::new();
    for w in nodes.windows(2) {
        let (a, b) = (center(&w[0].0), center(&w[1].0));
        edges
            .push(html! { <line class="edge" x1={a.0.to_string()} y1={a.1.to_string()} x2={b.0.to_string()} y2={b.1.to_string()} marker-end="url(#arrow)" /> });
    }
    let skips = (0..depth).filter(|_| props.variant.skip != Skip::None).map(|k| {
        let (ex, ey) = pos[format!("enc.{k}").as_str()];
        let (dx, _) = pos[format!("dec.{k}").as_str()];
        let (x1, x2, y) = (ex + NODE_W, dx, ey + NODE_H / 2.0 - 8.0);
        let mx = x2 - 26.0;
        let symbol = match props.variant.skip {
            Skip::Add => html! {
                <g class="skip-add">
                    <rect x={(mx - 44.0).to_string()} y={(y - 9.0).to_string()} width="26" height="18" rx="3" />
                    <text x={(mx - 31.0).to_string()} y={(y + 4.0).to_string()} text-anchor="middle">{ "1×1" }</text>
                    <circle cx={mx.to_string()} cy={y.to_string()} r="9" />
                    <text x={mx.to_string()} y={(y + 5.0).to_string()} text-anchor="middle" class="op">{ "+" }</text>
                </g>
            },
            _ => html! {
                <g class="skip-concat">
                    <rect x={(mx - 7.0).to_string()} y={(y - 11.0).to_string()} width="5" height="22" />
                    <rect x={(mx + 2.0).to_string()} y={(y - 11.0).to_string()} width="5" height="22" />
                </g>
            },
        };
        html! {
            <g key={k} class="skip" data-skip={props.variant.skip.name()}>
                <line x1={x1.to_string()} y1={y.to_string()} x2={x2.to_string()} y2={y.to_string()} marker-end="url(#arrow-skip)" />
                if x2 - x1 > 140.0 {
                    <text class="skip-label" x={(x1 + 6.0).to_string()} y={(y - 4.0).to_string()}>{ format!("skip: all of enc.{k}") }</text>
                }
                { symbol }
            </g>
        }
    });
    // Max unpooling carries only pool.k's argmax positions to dec.k: a thin dotted arrow,
    // below the skip link (which carries the whole map).
    let indices = (0..depth).filter(|_| props.variant.upsample == Upsample::Unpool).map(|k| {
        let (px, py) = pos[format!("pool.{k}").as_str()];
        let (ex, ey) = pos[format!("enc.{k}").as_str()];
        let (dx, _) = pos[format!("dec.{k}").as_str()];
        let (x0, y0) = (px + NODE_W, py + NODE_H / 2.0);
        let (x1, y) = (px + NODE_W + (DX - NODE_W) / 2.0, ey + NODE_H / 2.0 + 12.0);
        let d = format!("M {x0} {y0} L {x1} {y0} L {x1} {y} L {dx} {y}");
        let label_x = ex + NODE_W + 40.0;
        html! {
            <g key={format!("i{k}")} class="indices" data-level={k.to_string()}>
                <path d={d} marker-end="url(#arrow-indices)" />
                <text x={label_x.to_string()} y={(y - 2.0).to_string()}>{ format!("indices of pool.{k}") }</text>
            </g>
        }
    });
    let boxes = nodes.iter().map(|(name, what, _, _)| {
        let (x, y) = pos[name.as_str()];
        let shape = props.shapes.get(name);
        let selected = props.selected == *name;
        let onclick = {
            let (cb, n) = (props.on_select.clone(), name.clone());
            Callback::from(move |_: MouseEvent| cb.emit(n.clone()))
        };
        let onkeydown = {
            let (cb, n) = (props.on_select.clone(), name.clone());
            Callback::from(move |e: KeyboardEvent| {
                if e.key() == "Enter" || e.key() == " " {
                    e.prevent_default();
                    cb.emit(n.clone());
                }
            })
        };
        let shape_text = shape.map(|s| s.to_string()).unwrap_or_else(|| "…".into());
        html! {
            <g key={name.clone()} class={classes!("node", selected.then_some("selected"), shape.is_none().then_some("pending"))}
                role="button" tabindex="0" aria-pressed={selected.to_string()} data-stage={name.clone()}
                aria-label={format!("{name}: {what}, {shape_text}")} {onclick} {onkeydown}>
                <rect x={x.to_string()} y={y.to_string()} width={NODE_W.to_string()} height={NODE_H.to_string()} rx="5" />
                <text x={(x + NODE_W / 2.0).to_string()} y={(y + 13.0).to_string()} text-anchor="middle" class="name">{ name.clone() }</text>
                <text x={(x + NODE_W / 2.0).to_string()} y={(y + 24.0).to_string()} text-anchor="middle" class="kind">{ *what }</text>
                <text x={(x + NODE_W / 2.0).to_string()} y={(y + 35.0).to_string()} text-anchor="middle" class="shape">{ shape_text }</text>
            </g>
        }
    });
    let rows = (0..=depth).map(|l| {
        let y = TOP + l as f64 * DY + NODE_H / 2.0 + 3.0;
        html! { <text key={l} x="2" y={y.to_string()} class="level">{ if l == 0 { "1/1".to_string() } else { format!("1/{}", 1 << l) } }</text> }
    });
    html! {
        <svg class="u-diagram" viewBox={format!("0 0 {width} {height}")} role="group"
            aria-label={format!("the network {} drawn as a U", props.variant)} data-skip={props.variant.skip.name()}>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                </marker>
                <marker id="arrow-indices" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead-indices" />
                </marker>
                <marker id="arrow-skip" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead-skip" />
                </marker>
            </defs>
            { for rows }
            { for edges }
            { for skips }
            { for indices }
            { for boxes }
        </svg>
    }
}

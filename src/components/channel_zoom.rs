use super::pointable::{Pointable, Pointing};
use super::RgbaCanvas;
use crate::colormap::Scale;
use crate::protocol::StageData;
use crate::state::ScaleMode;
use crate::Shared;
use skipscope_engine::model::StageKind;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub stage: Shared<StageData>,
    pub channel: usize,
    pub scale_mode: ScaleMode,
    pub on_close: Callback<()>,
    /// The followed position's value `(y, x)` in this map: a crosshair there.
    #[prop_or_default]
    pub mark: Option<(usize, usize)>,
    /// Pointing at the map follows that position (see "Look closer").
    #[prop_or_default]
    pub on_point: Callback<Pointing>,
}

/// The argmax view of a pool channel at the pool's input resolution: each pooled value is
/// put back where its maximum was, the other three pixels of its window stay dark. This is
/// exactly what max unpooling does.
fn argmax_rgba(stage: &StageData, c: usize, scale: Scale) -> Option<(Vec<u8>, usize, usize)> {
    let argmax = stage.argmax.as_ref()?;
    let s = stage.planes.shape;
    let (w2, h2) = (2 * s.width, 2 * s.height);
    let mut out = vec![0u8; w2 * h2 * 4];
    for px in out.chunks_exact_mut(4) {
        px.copy_from_slice(&[20, 20, 24, 255]);
    }
    let n = s.width * s.height;
    for i in 0..n {
        let (y, x) = (i / s.width, i % s.width);
        let a = argmax[c * n + i] as usize;
        let (yy, xx) = (2 * y + a / 2, 2 * x + a % 2);
        let [r, g, b] = scale.color(stage.planes.values[c * n + i]);
        out[(yy * w2 + xx) * 4..][..3].copy_from_slice(&[r, g, b]);
    }
    Some((out, w2, h2))
}

/// One channel enlarged, with the value and position under the pointer; for pool stages
/// also where each maximum came from.
#[function_component]
pub fn ChannelZoom(props: &Props) -> Html {
    let hover = use_state(|| None::<(usize, usize, f32)>);
    let stage = &props.stage;
    let c = props.channel.min(stage.planes.shape.channels.saturating_sub(1));
    let s = stage.planes.shape;
    let scale = use_memo((props.stage.clone(), c, props.scale_mode), |(stage, c, mode)| match mode {
        ScaleMode::PerStage => Scale::of(&stage.planes.values),
        ScaleMode::PerChannel => Scale::of(stage.planes.plane(*c)),
    });
    // The channel's own range is what the grid's tile of it was coloured with: the same
    // pixels, kept once.
    let pixels = use_memo((props.stage.clone(), c, *scale, props.scale_mode), |(stage, c, scale, mode)| {
        super::heatmap::coloured(stage, super::heatmap::Part::Output, *c, (*mode == ScaleMode::PerStage).then_some(*scale)).0
    });
    let label = use_memo((props.stage.clone(), c), |(stage, c)| {
        crate::alt_text::map(&format!("{}, enlarged", stage.name), stage.planes.shape, *c, stage.planes.plane(*c))
    });
    let argmax = use_memo((props.stage.clone(), c, *scale), |(stage, c, scale)| argmax_rgba(stage, *c, *scale).map(|(p, w, h)| (Shared(Rc::new(p)), w, h)));
    let on_point = {
        let (hover, stage, up) = (hover.clone(), props.stage.clone(), props.on_point.clone());
        Callback::from(move |p: Pointing| {
            match p {
                Pointing::At { fy, fx, .. } => {
                    let s = stage.planes.shape;
                    let x = ((fx * s.width as f64).floor() as usize).min(s.width - 1);
                    let y = ((fy * s.height as f64).floor() as usize).min(s.height - 1);
                    hover.set(Some((x, y, stage.planes.plane(c)[y * s.width + x])));
                }
                Pointing::Left => hover.set(None),
                Pointing::Key { .. } => {}
            }
            up.emit(p);
        })
    };
    let readout = match *hover {
        Some((x, y, v)) => format!("x {x}, y {y}: {v:.4}"),
        None => "hover over the map to read a value".into(),
    };
    let range = format!("{:.3} … {:.3}{}", scale.lo, scale.hi, if scale.signed { " (signed: blue < 0 < red)" } else { "" });
    let close = props.on_close.reform(|_| ());
    html! {
        <figure class="zoom">
            <figcaption>
                <strong>{ format!("{} · channel {c}", stage.name) }</strong>
                { format!(" ({} x {}) ", s.height, s.width) }
                <button class="small" onclick={close} aria-label="close the enlarged channel">{ "close" }</button>
            </figcaption>
            <div class="zoom-maps">
                <div>
                    <Pointable pixels={(*pixels).clone()} width={s.width} height={s.height} class="zoomed-wrap" canvas_class="zoomed"
                        label={AttrValue::from((*label).clone())} mark={props.mark} {on_point} />
                    <p class="readout" aria-live="polite">{ readout }</p>
                </div>
                if let (Some((p, w, h)), StageKind::Pool) = ((*argmax).clone(), stage.kind) {
                    <div>
                        <RgbaCanvas pixels={p} width={w} height={h} class="zoomed" label={AttrValue::from(format!("{} channel {c}: where each maximum was, at the pool's input resolution, {h} x {w} x 1 (H x W x C), {}", stage.name, crate::alt_text::range_text(stage.planes.plane(c))))} />
                        <p class="readout">{ "where each maximum was (at the pool's input resolution; the rest dark)" }</p>
                    </div>
                }
            </div>
            <div class="colorbar" style={format!("background: {}", scale.css_gradient())}></div>
            <p class="range">{ range }</p>
        </figure>
    }
}

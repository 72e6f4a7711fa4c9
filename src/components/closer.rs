use super::closeup_view::CloseupView;
use super::pointable::{Pointable, Pointing, Rect};
use crate::colormap::Scale;
use crate::picture::Picture;
use crate::position::{Fields, Position, StageMark};
use crate::protocol::{StageData, Variant};
use crate::Shared;
use skipscope_engine::ModelConfig;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub picture: Shared<Picture>,
    /// The shown trace's stages so far.
    pub stages: Vec<Shared<StageData>>,
    pub config: ModelConfig,
    pub selected: AttrValue,
    pub channel: Option<usize>,
    /// The position followed: under the pointer, else the pinned one.
    pub position: Option<Position>,
    pub pinned: Option<Position>,
    /// A position pointed at (none: the pointer left), and whether it pins.
    pub on_point: Callback<(Option<Position>, bool)>,
    pub on_select: Callback<String>,
}

/// One stage's thumbnail: its channel as a heatmap that can be pointed at, with the crosshair.
#[derive(Properties, PartialEq)]
struct ThumbProps {
    stage: Shared<StageData>,
    channel: usize,
    mark: StageMark,
    selected: bool,
    valid: (usize, usize),
    position: Position,
    on_point: Callback<(Option<Position>, bool)>,
    on_select: Callback<String>,
}

#[function_component]
fn StageThumb(props: &ThumbProps) -> Html {
    let pixels = use_memo((props.stage.clone(), props.channel), |(stage, c)| {
        let p = stage.planes.plane((*c).min(stage.planes.shape.channels - 1));
        Shared(Rc::new(Scale::of(p).rgba(p)))
    });
    let m = &props.mark;
    let s = props.stage.planes.shape;
    let on_point = point_callback(props.on_point.clone(), m.level, (s.height, s.width), props.valid, props.position);
    let side = 1usize << m.level;
    let select = {
        let (cb, name) = (props.on_select.clone(), m.name.clone());
        Callback::from(move |_| cb.emit(name.clone()))
    };
    html! {
        <figure class={classes!("thumb", props.selected.then_some("selected"))} data-stage={m.name.clone()}>
            <Pointable pixels={(*pixels).clone()} width={s.width} height={s.height} class="thumb-map"
                label={AttrValue::from(format!("{} channel {}: point to follow a position", m.name, props.channel))} mark={Some((m.y, m.x))} {on_point} />
            <figcaption>
                <button class="small" onclick={select} aria-pressed={props.selected.to_string()}>{ m.name.clone() }</button>
                <span class="res">{ format!(" {}×{}", m.height, m.width) }</span>
                <span class="ppv">{ format!(" 1 value = {side}×{side} px ({})", m.pixels_per_value) }</span>
                <span class="at">{ format!(" at ({}, {})", m.y, m.x) }</span>
            </figcaption>
        </figure>
    }
}

/// Turns pointing at a map of `size` values at `level` into a position of the photo.
pub fn point_callback(
    on_point: Callback<(Option<Position>, bool)>,
    level: usize,
    size: (usize, usize),
    valid: (usize, usize),
    current: Position,
) -> Callback<Pointing> {
    Callback::from(move |p: Pointing| match p {
        Pointing::At { fy, fx, pin } => on_point.emit((Some(Position::of_fraction(fy, fx, size.0, size.1, level, valid.0, valid.1)), pin)),
        Pointing::Left => on_point.emit((None, false)),
        Pointing::Key { dy, dx } => on_point.emit((Some(current.moved(dy << level, dx << level, valid.0, valid.1)), true)),
    })
}

/// "Look closer": one position of the photo followed through every stage (each says its
/// resolution and how many photo pixels one value stands for), the receptive field of the
/// selected stage's value drawn on the photo, and the selected stage's close-ups there.
#[function_component]
pub fn Closer(props: &Props) -> Html {
    let input = &props.picture.input;
    let (vh, vw) = (input.valid_height, input.valid_width);
    let fields = use_memo((props.config, input.height, input.width, vh, vw), |(c, h, w, vh, vw)| Fields::new(c, *h, *w, *vh, *vw));
    let pos = Position::or_centre(props.position, vh, vw);
    let Some(marks) = fields.marks(pos) else { return html! {} };
    let selected_mark = marks.iter().find(|m| m.name == props.selected.as_str()).cloned();
    let photo_point = point_callback(props.on_point.clone(), 0, (vh, vw), (vh, vw), pos);
    let rect = selected_mark.as_ref().map(|m| {
        let (rows, cols) = m.field_in_picture(vh, vw);
        Rect { top: rows.lo, left: cols.lo, bottom: rows.hi, right: cols.hi }
    });
    let photo_pixels = use_memo(props.picture.clone(), |p| Shared(Rc::new(p.rgba.clone())));
    let where_text = match (props.position, props.pinned) {
        (Some(p), Some(q)) if p == q => format!("pinned at row {}, column {} of the photo", p.y, p.x),
        (Some(p), _) => format!("row {}, column {} of the photo (click or tap to pin)", p.y, p.x),
        (None, _) => format!("row {}, column {}: the photo's centre (point anywhere to move)", pos.y, pos.x),
    };
    let field_text = selected_mark.as_ref().map(|m| {
        let (rows, cols) = m.field_in_picture(vh, vw);
        let clipped = rows.hi < m.rows.hi || cols.hi < m.cols.hi;
        format!(
            "{} holds it at ({}, {}) of its {}×{} map; that value depends on rows {}–{} and columns {}–{} of the photo ({}×{} pixels){}, the dashed box.",
            m.name,
            m.y,
            m.x,
            m.height,
            m.width,
            rows.lo,
            rows.hi,
            cols.lo,
            cols.hi,
            rows.len(),
            cols.len(),
            if clipped { format!("; its full field, {}×{}, reaches into the padding beyond the photo", m.rows.len(), m.cols.len()) } else { String::new() }
        )
    });
    let stage_of = |name: &str| props.stages.iter().find(|s| s.name == name).cloned();
    let thumbs = marks.iter().filter_map(|m| {
        let stage = stage_of(&m.name)?;
        let selected = m.name == props.selected.as_str();
        let channel = if selected { props.channel.unwrap_or(0) } else { 0 };
        Some(html! {
            <StageThumb key={m.name.clone()} {stage} {channel} mark={m.clone()} {selected} valid={(vh, vw)} position={pos}
                on_point={props.on_point.clone()} on_select={props.on_select.clone()} />
        })
    });
    let variant = Variant::new(props.config.upsample, props.config.skip);
    html! {
        <section class="closer" aria-label="look closer">
            <p class="hint">{ "Point at the photo or at any map below (hover; click or tap to pin, which puts the position in the address; arrow keys move a pinned position, Shift for 8 steps). Every stage marks the value that holds the position, and the photo shows the region that value of the selected stage depends on: its receptive field, from the architecture's kernels, poolings and upsamplers." }</p>
            <div class="closer-top">
                <figure class="closer-photo">
                    <Pointable pixels={(*photo_pixels).clone()} width={vw} height={vh} class="photo-map" label={AttrValue::from("the photo: point to follow a position")}
                        mark={Some((pos.y, pos.x))} {rect} on_point={photo_point} />
                    <figcaption>
                        <strong class="where">{ where_text }</strong><br />
                        <span class="field-text">{ field_text.unwrap_or_default() }</span>
                    </figcaption>
                </figure>
                <CloseupView stages={props.stages.clone()} {variant} depth={props.config.depth} full={(input.height, input.width)}
                    selected={props.selected.clone()} channel={props.channel} position={pos} on_select={props.on_select.clone()} />
            </div>
            <div class="closer-stages" role="group" aria-label="the position in every stage">{ for thumbs }</div>
        </section>
    }
}

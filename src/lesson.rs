//! The guided lesson: from the student's question ("aren't unpooling and transposed
//! convolution enough?") to the answer, in [`STEPS`] short steps beside the tool. Each step's
//! text is built from the shown model and picture (the trace, the comparison's masks and the
//! manifest's test scores), so every sentence is true of what is on screen; each step's
//! "show me" buttons ([`Show`]) set the variant, stage, channel and the part of the page it
//! talks about. Pure: everything here is a function of [`State`].

use crate::masks::{boundary_far_share, boundary_share};
use crate::protocol::{Dataset, Mask, StageData, Variant};
use crate::state::{Availability, State};
use skipscope_engine::{Skip, Upsample};

/// How many steps the lesson has.
pub const STEPS: usize = 7;

/// Pixels farther than this from the other mask's boundary count as a different boundary.
pub const BOUNDARY_TOLERANCE: usize = 3;

/// The part of the page a step talks about: outlined, and scrolled to by "show me".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Mask,
    Diagram,
    Stage,
    Parts,
    Compare,
    Scores,
    Picker,
}

impl Focus {
    /// The `data-focus` name of the page part.
    pub fn name(self) -> &'static str {
        match self {
            Focus::Mask => "mask",
            Focus::Diagram => "diagram",
            Focus::Stage => "stage",
            Focus::Parts => "parts",
            Focus::Compare => "compare",
            Focus::Scores => "scores",
            Focus::Picker => "picker",
        }
    }
}

/// What a "show me" button sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Show {
    pub label: String,
    pub variant: Variant,
    pub stage: String,
    pub channel: Option<usize>,
    pub focus: Focus,
}

/// A piece of a step's text: words, or a number computed on the page (`key` names it for the
/// tests; `value` is what the text rounds).
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Text(String),
    Num {
        key: &'static str,
        value: f64,
        text: String,
    },
    /// A number that needs what is not computed yet (a trace, a mask, a model).
    Pending(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub title: &'static str,
    pub paragraphs: Vec<Vec<Piece>>,
    pub shows: Vec<Show>,
}

impl Step {
    /// The numbers in the step's text, by key.
    pub fn numbers(&self) -> Vec<(&'static str, f64)> {
        self.paragraphs.iter().flatten().filter_map(|p| if let Piece::Num { key, value, .. } = p { Some((*key, *value)) } else { None }).collect()
    }
}

pub const TITLES: [&str; STEPS] = [
    "What the network computes",
    "Pooling keeps what, erases where",
    "Without a skip, the decoder can only spread",
    "Unpooling's indices: one position per window",
    "The skip: the encoder's map from before the pooling",
    "The evidence: the masks, their boundaries, the test set",
    "Now your own photo",
];

fn t(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

fn int(key: &'static str, v: usize) -> Piece {
    Piece::Num { key, value: v as f64, text: v.to_string() }
}

/// A fraction shown as a percentage with one decimal.
fn pct(key: &'static str, v: f64) -> Piece {
    Piece::Num { key, value: v, text: format!("{:.1}%", 100.0 * v) }
}

fn opt(p: Option<Piece>, what: &'static str) -> Piece {
    p.unwrap_or(Piece::Pending(what))
}

/// The shape of stage `name` of the shown trace: `(channels, height, width)`.
fn shape(state: &State, name: &str) -> Option<(usize, usize, usize)> {
    stage(state, name).map(|s| (s.planes.shape.channels, s.planes.shape.height, s.planes.shape.width))
}

fn stage<'a>(state: &'a State, name: &str) -> Option<&'a StageData> {
    state.trace().and_then(|t| t.stages.iter().find(|s| s.name == name)).map(|s| &**s)
}

fn mask(state: &State, v: Variant) -> Option<&Mask> {
    state.masks.get(&v).map(|s| &*s.mask)
}

/// Whether a toggle may lead to `v` (it has or will have weights).
fn offered(state: &State, v: Variant) -> bool {
    !matches!(state.availability(v), Availability::Unavailable(_) | Availability::Stopped)
}

fn show(state: &State, label: impl Into<String>, variant: Variant, stage: &str, channel: Option<usize>, focus: Focus) -> Option<Show> {
    offered(state, variant).then(|| Show { label: label.into(), variant, stage: stage.into(), channel, focus })
}

/// The upsampler the lesson talks about: the shown one.
fn up(state: &State) -> Upsample {
    state.variant.upsample
}

/// `c x h x w` as text, each a number.
fn dims(prefix: &'static [&'static str; 3], s: Option<(usize, usize, usize)>) -> Vec<Piece> {
    match s {
        Some((c, h, w)) => vec![int(prefix[0], c), t(" × "), int(prefix[1], h), t(" × "), int(prefix[2], w)],
        None => vec![Piece::Pending("the trace")],
    }
}

/// What the shares of the argmax positions of pool.0's `channel` are: top-left, top-right,
/// bottom-left, bottom-right.
pub fn argmax_shares(stage: &StageData, channel: usize) -> Option<[f64; 4]> {
    let a = stage.argmax.as_ref()?;
    let n = stage.planes.shape.height * stage.planes.shape.width;
    let plane = a.get(channel * n..(channel + 1) * n)?;
    let mut counts = [0usize; 4];
    for &p in plane {
        counts[(p as usize).min(3)] += 1;
    }
    Some(counts.map(|c| c as f64 / n.max(1) as f64))
}

/// The share of exact zeros in a decoder stage's upsampled map.
pub fn upsampled_zero_share(stage: &StageData) -> Option<f64> {
    let v = &stage.parts.as_ref()?.upsampled.values;
    Some(v.iter().filter(|x| **x == 0.0).count() as f64 / v.len().max(1) as f64)
}

/// The lesson's step `i` (clamped) for the shown state.
pub fn step(state: &State, i: usize) -> Step {
    let i = i.min(STEPS - 1);
    let (paragraphs, shows) = match i {
        0 => what_it_computes(state),
        1 => pooling(state),
        2 => no_skip(state),
        3 => unpooling(state),
        4 => the_skip(state),
        5 => evidence(state),
        _ => your_photo(state),
    };
    Step { title: TITLES[i], paragraphs, shows: shows.into_iter().flatten().collect() }
}

type Parts = (Vec<Vec<Piece>>, Vec<Option<Show>>);

fn model_name(state: &State) -> String {
    let trained = match state.model() {
        Some(m) if m.trained => "trained",
        Some(_) => "random-weights",
        None => "",
    };
    format!("{trained}{}{} model ({})", if trained.is_empty() { "" } else { " " }, state.variant, state.dataset.title())
}

fn what_it_computes(state: &State) -> Parts {
    let depth = state.depth();
    let input = shape(state, "input");
    let bottleneck = shape(state, "bottleneck");
    let classes = state.classes();
    let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
    let mut p1 = vec![t(format!("The coloured mask is the answer of the {}: for each pixel of the ", model_name(state)))];
    p1.extend(match input {
        Some((_, h, w)) => vec![int("input-h", h), t(" × "), int("input-w", w), t(" photo")],
        None => vec![t("photo")],
    });
    p1.extend([t(" it picks one of "), int("classes", classes.len()), t(format!(" classes ({}).", names.join(", ")))]);
    let mut p2 = vec![
        t("The network is drawn as a U of "),
        int("depth", depth),
        t(" levels. Down the left, the encoder: 3×3 convolutions, each output mixing only a 3×3 neighbourhood (a convolution sees locally), and after each level a 2×2 max pooling that halves the resolution. enc.0 is "),
    ];
    p2.extend(dims(&["enc0-c", "enc0-h", "enc0-w"], shape(state, "enc.0")));
    p2.push(t(" (channels × height × width); the bottleneck is "));
    p2.extend(dims(&["bottleneck-c", "bottleneck-h", "bottleneck-w"], bottleneck));
    p2.push(t(". Up the right, the decoder doubles the resolution back "));
    p2.push(int("depth", depth));
    p2.push(t(" times, and the head turns each pixel's features into one score per class."));
    let p3 = vec![t(
        "The question this lesson answers: max unpooling and transposed convolution already upsample, so what does the skip add? Each step's “show me” sets the tool to what it talks about; leave the lesson at any step and come back.",
    )];
    let shows = vec![show(state, "Show me the network", state.variant, "input", None, Focus::Diagram)];
    (vec![p1, p2, p3], shows)
}

fn pooling(state: &State) -> Parts {
    let depth = state.depth();
    let last = format!("pool.{}", depth - 1);
    let deepest = stage(state, &last);
    let mut p1 = vec![t("Each 2×2 max pooling keeps the largest of four values, so it halves each side. After ")];
    p1.push(int("depth", depth));
    p1.push(t(format!(" poolings, {last} is ")));
    p1.extend(dims(&["pool-c", "pool-h", "pool-w"], deepest.map(|s| (s.planes.shape.channels, s.planes.shape.height, s.planes.shape.width))));
    p1.push(t(": it keeps one value for every "));
    p1.push(opt(deepest.map(|s| int("pixels-per-value", 1 << (2 * s.level))), "the trace"));
    p1.push(t(
        " pixels of the photo. Each value now summarises a wide region: good for knowing what is there, but the map no longer says where in the region it was.",
    ));
    let pool0 = stage(state, "pool.0");
    let ch = if state.selected == "pool.0" { state.channel.unwrap_or(0) } else { 0 };
    let mut p2 = vec![t(format!(
        "Enlarged, a pool's channel shows its argmax: which of the four positions of each window held the maximum. In pool.0, channel {ch}, it was top-left in "
    ))];
    match pool0.and_then(|s| argmax_shares(s, ch)) {
        Some([a, b, c, d]) => p2.extend([
            pct("argmax-tl", a),
            t(", top-right in "),
            pct("argmax-tr", b),
            t(", bottom-left in "),
            pct("argmax-bl", c),
            t(" and bottom-right in "),
            pct("argmax-br", d),
            t(if [a, b, c, d].iter().all(|v| *v > 0.0) {
                " of the windows: where the maximum was is spread over all four, and only these indices remember it. The pooled values do not."
            } else {
                " of the windows: only these indices remember where the maximum was. The pooled values do not."
            }),
        ]),
        None => p2.push(Piece::Pending("the trace")),
    }
    let p3 = vec![t(
        "Once erased, where cannot be computed back from the pooled map: many different maps pool to the same values. That is the whole problem the decoder has.",
    )];
    let shows = vec![
        show(state, "Show me pool.0's argmax", state.variant, "pool.0", Some(0), Focus::Stage),
        show(state, format!("Show me {last}"), state.variant, &last, Some(0), Focus::Stage),
    ];
    (vec![p1, p2, p3], shows)
}

fn no_skip(state: &State) -> Parts {
    let u = up(state);
    let (none, add) = (Variant::new(u, Skip::None), Variant::new(u, Skip::Add));
    let mut p1 = vec![t("Without a skip, dec.0 is computed from the bottleneck's ")];
    match shape(state, "bottleneck") {
        Some((_, h, w)) => p1.extend([int("bottleneck-h", h), t(" × "), int("bottleneck-w", w), t(" map")]),
        None => p1.push(t("map")),
    }
    p1.push(t(" alone, upsampled "));
    p1.push(int("depth", state.depth()));
    p1.push(t(
        " times. No upsampler can invent the positions pooling erased. A transposed convolution (4×4, stride 2) learns to spread each value over its neighbours the least bad way, like a pseudo-inverse; bilinear interpolation spreads it by a fixed average; max unpooling puts it back at one position per window. All three are ways to upsample.",
    ));
    let mut p2 = vec![t(format!("On this photo, {none}'s mask has "))];
    p2.push(opt(mask(state, none).map(|m| pct("boundary-none", boundary_share(m))), "the comparison's masks"));
    p2.push(t(format!(" of its pixels on a class boundary, {add}'s ")));
    p2.push(opt(mask(state, add).map(|m| pct("boundary-add", boundary_share(m))), "the comparison's masks"));
    if let (Some(a), Some(b)) = (mask(state, none), mask(state, add)) {
        p2.push(t(if boundary_share(a) < boundary_share(b) {
            ": without a skip the regions are coarser, their edges smoother than the photo's."
        } else {
            ": here the skipless mask does not have fewer boundary pixels; look at where they are (step 6)."
        }));
    } else {
        p2.push(t("."));
    }
    let mut p3 = vec![t("On the test set, BF (how well the mask's boundaries match the true ones) without a skip is ")];
    let bfs: Vec<Piece> = Upsample::ALL
        .into_iter()
        .filter_map(|u| state.entry(Variant::new(u, Skip::None)).and_then(|e| e.test.bf).map(|bf| (u, bf)))
        .flat_map(|(u, bf)| [pct(bf_key(u, Skip::None), bf), t(format!(" for {u}-none, ", u = u.name()))])
        .collect();
    if bfs.is_empty() {
        p3 = vec![t("No test scores are published for the skipless models of this dataset.")];
    } else {
        p3.extend(bfs);
        // Said only where the test scores show it.
        let lowest = Upsample::ALL.into_iter().all(|u| {
            let bf = |s| state.entry(Variant::new(u, s)).and_then(|e| e.test.bf);
            match bf(Skip::None) {
                Some(n) => [Skip::Add, Skip::Concat].into_iter().filter_map(bf).all(|o| o > n),
                None => true,
            }
        });
        p3.push(t(if lowest { "each the lowest of its upsampler's (see the table in step 6)." } else { "see the table in step 6 for the others." }));
    }
    // The shown upsampler first, then the two others.
    let shows = std::iter::once(u)
        .chain(Upsample::ALL.into_iter().filter(|o| *o != u))
        .map(|u| show(state, format!("Show me {}-none at dec.0", u.name()), Variant::new(u, Skip::None), "dec.0", None, Focus::Parts))
        .collect();
    (vec![p1, p2, p3], shows)
}

fn bf_key(u: Upsample, s: Skip) -> &'static str {
    match (u, s) {
        (Upsample::Unpool, Skip::None) => "bf-unpool-none",
        (Upsample::Unpool, Skip::Add) => "bf-unpool-add",
        (Upsample::Unpool, Skip::Concat) => "bf-unpool-concat",
        (Upsample::Transposed, Skip::None) => "bf-transposed-none",
        (Upsample::Transposed, Skip::Add) => "bf-transposed-add",
        (Upsample::Transposed, Skip::Concat) => "bf-transposed-concat",
        (Upsample::Bilinear, Skip::None) => "bf-bilinear-none",
        (Upsample::Bilinear, Skip::Add) => "bf-bilinear-add",
        (Upsample::Bilinear, Skip::Concat) => "bf-bilinear-concat",
    }
}

fn unpooling(state: &State) -> Parts {
    let unpool_none = Variant::new(Upsample::Unpool, Skip::None);
    let shows = vec![
        show(state, "Show me unpool-none at dec.0", unpool_none, "dec.0", None, Focus::Parts),
        show(state, "Show me the indices in the diagram", unpool_none, "pool.0", Some(0), Focus::Diagram),
    ];
    if shows.iter().all(Option::is_none) {
        let missing = if state.dataset == Dataset::Own {
            "You have not opened an unpool-none file of your model: open one, or pick a published model, to see this step's numbers.".to_string()
        } else {
            format!("No trained max-unpooling model is published for {} yet: pick the street-scene model to see this step's numbers.", state.dataset.title())
        };
        let p = vec![t(format!(
            "{missing} Max unpooling needs pooling's indices: it puts each value back at the position its window's maximum came from, zeros elsewhere."
        ))];
        return (vec![p], shows);
    }
    let mut p1 = vec![t(
        "Max unpooling uses the indices pooling recorded: it writes each value back at the position its window's maximum came from, and zero at the other three. In the diagram, thin dotted “indices” arrows run from each pool.k to dec.k; in unpool-add and unpool-concat the skip link, which carries the whole of enc.k, runs beside them.",
    )];
    if state.variant.upsample == Upsample::Unpool {
        p1.push(t(format!(" In {}'s dec.0, ", state.variant)));
        match stage(state, "dec.0").and_then(upsampled_zero_share) {
            Some(z) => p1.extend([
                t("the upsampled map is zero at "),
                pct("unpool-zeros", z),
                t(" of its values: three in every four by construction (75%), more where ReLU had already given zero."),
            ]),
            None => p1.push(Piece::Pending("the trace")),
        }
    } else {
        p1.push(t(" Press “show me” to see the unpooled map, zero at three positions in every four."));
    }
    let p2 = vec![t(
        "So the indices bring back one position per window, and only for the maxima: the three other values of each window, and any edge inside it, stay lost. A skip carries the whole map from before the pooling instead.",
    )];
    (vec![p1, p2], shows)
}

fn the_skip(state: &State) -> Parts {
    let u = up(state);
    let (add, concat) = (Variant::new(u, Skip::Add), Variant::new(u, Skip::Concat));
    let dec0 = stage(state, "dec.0");
    let parts = dec0.and_then(|s| s.parts.as_ref());
    let mut p1 = vec![t(
        "A skip is not an upsampler: it is combined with any of them, and every decoder stage upsamples and then fuses its skip. At dec.0 the upsampled map is ",
    )];
    p1.extend(dims(&["up-c", "up-h", "up-w"], parts.map(|p| (p.upsampled.shape.channels, p.upsampled.shape.height, p.upsampled.shape.width))));
    p1.push(t("; enc.0, the encoder's map from before pool.0, is "));
    p1.extend(dims(&["enc0-c", "enc0-h", "enc0-w"], shape(state, "enc.0")));
    p1.push(t(": the same resolution, with every position that pooling erased."));
    let p2 = match (state.variant.skip, parts) {
        (Skip::Add, Some(p)) => {
            let c = p.upsampled.shape.channels;
            vec![
                t("Add (as in FCN): a 1×1 convolution maps enc.0's "),
                opt(shape(state, "enc.0").map(|s| int("skip-in-c", s.0)), "the trace"),
                t(" channels to "),
                int("skip-c", p.skip.as_ref().map_or(0, |s| s.shape.channels)),
                t(" and the result is summed with the upsampled map: "),
                int("fused-c", p.fused.shape.channels),
                t(format!(
                    " channels. The counts already match here ({c}); the 1×1 learns how the encoder's channels should map onto what the decoder's channels mean before they are added (FCN also uses it to reduce channels)."
                )),
            ]
        }
        (Skip::Concat, Some(p)) => vec![
            t("Concat (as in U-Net), drawn ‖: enc.0's "),
            int("skip-c", p.skip.as_ref().map_or(0, |s| s.shape.channels)),
            t(" channels are stacked after the "),
            int("up-c", p.upsampled.shape.channels),
            t(" upsampled ones, giving "),
            int("fused-c", p.fused.shape.channels),
            t(" channels; nothing is added, and the next two 3×3 convolutions learn how to combine them."),
        ],
        (Skip::None, _) => vec![t(format!("{} has no skip: press “show me” for {add} or {concat}.", state.variant))],
        _ => vec![Piece::Pending("the trace")],
    };
    let p3 = vec![t(
        "The decoder parts below the stage show it: the upsampled deep map, the skip term, and what the convolutions receive. The diagram draws each skip link from enc.k to dec.k.",
    )];
    // The transposed convolution (FCN's upsampler) first, then the shown upsampler's.
    let mut ups = vec![Upsample::Transposed];
    if u != Upsample::Transposed {
        ups.push(u);
    }
    let shows = ups
        .into_iter()
        .flat_map(|u| [Variant::new(u, Skip::Add), Variant::new(u, Skip::Concat)])
        .map(|v| show(state, format!("Show me {v} at dec.0"), v, "dec.0", None, Focus::Parts))
        .collect();
    (vec![p1, p2, p3], shows)
}

fn evidence(state: &State) -> Parts {
    let u = up(state);
    let (none, add, concat) = (Variant::new(u, Skip::None), Variant::new(u, Skip::Add), Variant::new(u, Skip::Concat));
    let p1 = vec![t(match (&state.label, &state.sample) {
        (Some(_), _) => "A label image of this photo is given: the scores under the comparison say how right each mask is here; the test set says which variant is right more often.",
        (None, Some(_)) => "No built-in photo comes with a ground truth, so no mask here is known to be right: the comparison shows how the masks differ, and the test set says which variant is right more often.",
        (None, None) => "Your photo has no ground truth unless you give a label image under the comparison, so no mask here is known to be right: the comparison shows how the masks differ, and the test set says which variant is right more often.",
    })];
    let far =
        |a: Variant, b: Variant, key| mask(state, a).zip(mask(state, b)).and_then(|(a, b)| boundary_far_share(a, b, BOUNDARY_TOLERANCE)).map(|v| pct(key, v));
    let mut p2 = vec![t("Without a skip, ")];
    p2.push(opt(far(none, add, "far-none-add"), "the comparison's masks"));
    p2.push(t(format!(" of {none}'s boundary pixels lie more than {BOUNDARY_TOLERANCE} pixels from the boundary of {add}'s mask")));
    if offered(state, concat) {
        p2.push(t(", and "));
        p2.push(opt(far(none, concat, "far-none-concat"), "the comparison's masks"));
        p2.push(t(format!(" from {concat}'s")));
    }
    p2.push(t(". In the fourth picture, magenta marks the pixels where the masks do not all agree; each mask's boundary is drawn in its column's colour."));
    let mut p3 = vec![t(format!("On the {} test set, ", state.dataset.title()))];
    let test = |v: Variant| state.entry(v).and_then(|e| e.test.bf);
    match (test(none), test(add)) {
        _ if state.dataset == Dataset::Own => {
            p3 = vec![t("Your model's files are not scored on a shared test set here; the published models' tables are under their datasets.")];
        }
        (Some(a), Some(b)) => {
            p3.extend([
                t(format!("{u}'s BF is ", u = u.name())),
                pct(bf_key(u, Skip::None), a),
                t(" without a skip and "),
                pct(bf_key(u, Skip::Add), b),
                t(" with add"),
            ]);
            if let Some(c) = test(concat) {
                p3.extend([t(", "), pct(bf_key(u, Skip::Concat), c), t(" with concat")]);
            }
            p3.push(t(". The table has every published variant."));
        }
        _ => p3.push(t("the table below has every published variant's scores.")),
    }
    let shows = vec![
        show(state, "Show me the three masks", state.variant, "head", None, Focus::Compare),
        show(state, "Show me the test-set table", state.variant, "head", None, Focus::Scores),
    ];
    (vec![p1, p2, p3], shows)
}

fn your_photo(state: &State) -> Parts {
    let mut p1 = vec![t(format!(
        "Choose, drop or paste a photo of your own. {} Every number in these steps is recomputed for it and for the model shown: go back to any step.",
        crate::samples::upload_hint(state.dataset)
    ))];
    if let Some(p) = &state.picture {
        p1.push(t(format!(" Shown now: {}, run at ", p.name)));
        p1.extend([int("input-h", p.input.valid_height), t(" × "), int("input-w", p.input.valid_width), t(" pixels.")]);
    }
    let p2 = vec![t(
        "The answer, in one line: pooling erases where; no upsampler (unpooling, transposed convolution, bilinear) can invent it back; a skip hands the decoder the encoder's map from before the pooling, at the same resolution, and every decoder stage upsamples and fuses one.",
    )];
    (vec![p1, p2], vec![show(state, "Show me where to put a photo", state.variant, "input", None, Focus::Picker)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::boundaries;
    use crate::protocol::Dataset;
    use crate::state::testing::*;
    use crate::state::{Action, State};
    use crate::trace::Engine;
    use crate::url::UrlState;
    use std::rc::Rc;
    use yew::Reducible;

    fn num(step: &Step, key: &str) -> f64 {
        step.numbers().into_iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("{}: no number {key}: {:?}", step.title, step.numbers())).1
    }

    fn shape_of(state: &State, name: &str) -> (f64, f64, f64) {
        let s = shape(state, name).unwrap();
        (s.0 as f64, s.1 as f64, s.2 as f64)
    }

    fn text(step: &Step) -> String {
        step.paragraphs
            .iter()
            .flatten()
            .map(|p| match p {
                Piece::Text(s) => s.clone(),
                Piece::Num { text, .. } => text.clone(),
                Piece::Pending(_) => "…".into(),
            })
            .collect()
    }

    /// Chessboard distance by brute force: independent of the BFS in `masks`.
    fn far_share_brute(a: &Mask, b: &Mask, tol: usize) -> f64 {
        let w = a.width;
        let pts = |m: &Mask| boundaries(m).iter().enumerate().filter(|(_, e)| **e).map(|(i, _)| ((i / w) as isize, (i % w) as isize)).collect::<Vec<_>>();
        let (pa, pb) = (pts(a), pts(b));
        let far = pa.iter().filter(|(y, x)| pb.iter().all(|(v, u)| (y - v).abs().max((x - u).abs()) as usize > tol)).count();
        far as f64 / pa.len() as f64
    }

    /// The shown picture traced through transposed-add, with the comparison's three masks.
    fn lesson_state(engine: &mut Engine) -> Rc<State> {
        let s = traced(engine, showing_a_picture(), TA, 5);
        let s = segmented(engine, s, TN, 6);
        segmented(engine, s, TC, 7)
    }

    #[test]
    fn every_number_of_the_lesson_is_the_traces() {
        let mut engine = Engine::new();
        let state = lesson_state(&mut engine);
        let model = state.model().unwrap().clone();
        // 1: the network.
        let s = step(&state, 0);
        assert_eq!((num(&s, "input-h"), num(&s, "input-w")), (shape_of(&state, "input").1, shape_of(&state, "input").2));
        assert_eq!(num(&s, "classes"), model.classes.len() as f64);
        assert_eq!(num(&s, "depth"), model.depth as f64);
        assert_eq!((num(&s, "enc0-c"), num(&s, "enc0-h"), num(&s, "enc0-w")), shape_of(&state, "enc.0"));
        assert_eq!(num(&s, "enc0-c"), model.width as f64, "enc.0 has the model's width");
        assert_eq!((num(&s, "bottleneck-c"), num(&s, "bottleneck-h"), num(&s, "bottleneck-w")), shape_of(&state, "bottleneck"));
        assert!(text(&s).contains("random-weights transposed-add"), "{}", text(&s));
        // 2: pooling. pool.3 keeps one value per 16 x 16 block.
        let s = step(&state, 1);
        assert_eq!((num(&s, "pool-c"), num(&s, "pool-h"), num(&s, "pool-w")), shape_of(&state, "pool.3"));
        assert_eq!(num(&s, "pixels-per-value"), 256.0);
        assert_eq!(shape_of(&state, "input").2, 120.0);
        assert_eq!(shape_of(&state, "pool.3").2, (120f64 / 16.0).ceil(), "the trace's crop of a 120-pixel side at 1/16");
        let pool0 = stage(&state, "pool.0").unwrap();
        let n = pool0.planes.shape.height * pool0.planes.shape.width;
        let argmax = &pool0.argmax.as_ref().unwrap()[..n];
        for (key, pos) in [("argmax-tl", 0u8), ("argmax-tr", 1), ("argmax-bl", 2), ("argmax-br", 3)] {
            assert_eq!(num(&s, key), argmax.iter().filter(|a| **a == pos).count() as f64 / n as f64, "{key}");
        }
        // 3: no skip: boundary shares of the comparison's masks.
        let s = step(&state, 2);
        for (key, v) in [("boundary-none", TN), ("boundary-add", TA)] {
            let m = &state.masks[&v].mask;
            assert_eq!(num(&s, key), boundaries(m).iter().filter(|b| **b).count() as f64 / m.classes.len() as f64);
        }
        assert_eq!(s.shows.len(), 3, "one per upsampler: all run with random weights");
        // 5: the skip, from the decoder's parts.
        let s = step(&state, 4);
        let parts = stage(&state, "dec.0").unwrap().parts.clone().unwrap();
        assert_eq!(num(&s, "up-c"), parts.upsampled.shape.channels as f64);
        assert_eq!((num(&s, "up-h"), num(&s, "up-w")), (shape_of(&state, "enc.0").1, shape_of(&state, "enc.0").2), "the skip's resolution");
        assert_eq!(num(&s, "skip-in-c"), shape_of(&state, "enc.0").0);
        assert_eq!(num(&s, "skip-c"), parts.skip.as_ref().unwrap().shape.channels as f64);
        assert_eq!(num(&s, "fused-c"), num(&s, "up-c"), "add keeps the channels");
        // 6: the evidence: boundary distances, checked by brute force.
        let s = step(&state, 5);
        let (none, add, concat) = (&state.masks[&TN].mask, &state.masks[&TA].mask, &state.masks[&TC].mask);
        assert_eq!(num(&s, "far-none-add"), far_share_brute(none, add, BOUNDARY_TOLERANCE));
        assert_eq!(num(&s, "far-none-concat"), far_share_brute(none, concat, BOUNDARY_TOLERANCE));
        for i in [0, 1, 2, 4, 5, 6] {
            assert!(!text(&step(&state, i)).contains('…'), "step {}: {}", i + 1, text(&step(&state, i)));
        }
    }

    #[test]
    fn concat_and_unpooling_steps_say_what_their_trace_shows() {
        let mut engine = Engine::new();
        let state = lesson_state(&mut engine);
        // Concat: the fused map stacks the two.
        let show = step(&state, 4).shows.into_iter().find(|s| s.variant == TC).unwrap();
        let state = state.reduce(Action::Show { show, at_ms: 0.0 });
        let state = traced(&mut engine, state, TC, 8);
        let s = step(&state, 4);
        let parts = stage(&state, "dec.0").unwrap().parts.clone().unwrap();
        assert_eq!(num(&s, "fused-c"), (parts.upsampled.shape.channels + parts.skip.as_ref().unwrap().shape.channels) as f64);
        assert!(text(&s).contains("U-Net"));
        // Unpooling: its first "show me" leads to unpool-none at dec.0.
        let show = step(&state, 3).shows[0].clone();
        let up_none = Variant::new(Upsample::Unpool, Skip::None);
        assert_eq!((show.variant, show.stage.as_str(), show.focus), (up_none, "dec.0", Focus::Parts));
        let state = state.reduce(Action::Show { show, at_ms: 0.0 });
        assert_eq!((state.variant, state.selected.as_str(), state.focus), (up_none, "dec.0", Some(Focus::Parts)));
        let state = traced(&mut engine, state, up_none, 9);
        let s = step(&state, 3);
        let up = &stage(&state, "dec.0").unwrap().parts.as_ref().unwrap().upsampled.values;
        let zeros = num(&s, "unpool-zeros");
        assert_eq!(zeros, up.iter().filter(|v| **v == 0.0).count() as f64 / up.len() as f64);
        assert!(zeros >= 0.75, "three positions in four are zero: {zeros}");
        // Pooling's step picks the enlarged channel it talks about.
        let show = step(&state, 1).shows[0].clone();
        let state = state.reduce(Action::Show { show, at_ms: 0.0 });
        assert_eq!((state.selected.as_str(), state.channel), ("pool.0", Some(0)));
    }

    #[test]
    fn a_step_in_the_url_restores_it_and_sets_the_tool_as_its_show_me_does() {
        let s = State::from_url(&UrlState { lesson: Some(4), ..UrlState::default() });
        assert_eq!(s.lesson, Some(3));
        assert_eq!((s.variant, s.selected.as_str()), (Variant::new(Upsample::Unpool, Skip::None), "dec.0"));
        assert_eq!(s.url().lesson, Some(4));
        // With a variant and stage named too, those win.
        let s = State::from_url(&UrlState { lesson: Some(4), variant: Some(TA), stage: Some("pool.1".into()), ..UrlState::default() });
        assert_eq!((s.variant, s.selected.as_str(), s.lesson), (TA, "pool.1", Some(3)));
        // lesson=0: closed; none: open at the first step.
        assert_eq!(State::from_url(&UrlState { lesson: Some(0), ..UrlState::default() }).lesson, None);
        assert_eq!(State::from_url(&UrlState::default()).lesson, Some(0));
        let closed = Rc::new(State::default()).reduce(Action::Lesson(None));
        assert_eq!(closed.url().lesson, Some(0));
        assert_eq!(closed.reduce(Action::Lesson(Some(99))).lesson, Some(STEPS - 1));
        for (i, title) in TITLES.iter().enumerate() {
            assert_eq!(step(&State::default(), i).title, *title);
        }
    }

    #[test]
    fn a_step_offers_only_variants_the_dataset_has_and_a_missing_variant_is_said() {
        // CCP with only the transposed models: no unpooling step numbers, no unpool show.
        let manifest = manifest_with(&["ccp-transposed-none", "ccp-transposed-add", "ccp-transposed-concat"]);
        let url = UrlState { dataset: Some(Dataset::Ccp), variant: Some(Variant::new(Upsample::Unpool, Skip::Add)), ..UrlState::default() };
        let s = Rc::new(State::from_url(&url)).reduce(Action::CatalogLoaded(Ok(manifest)));
        assert_eq!(s.variant, TC);
        assert_eq!(s.variant_note.as_deref(), Some("unpool-add has no trained weights for People (CCP) yet, so transposed-concat is shown instead."));
        let unpool = step(&s, 3);
        assert!(unpool.shows.is_empty());
        assert!(text(&unpool).contains("No trained max-unpooling model"));
        assert_eq!(step(&s, 2).shows.len(), 1, "only transposed-none");
        // A show of a variant without weights leaves the variant.
        let show = Show { label: "x".into(), variant: Variant::new(Upsample::Unpool, Skip::None), stage: "dec.1".into(), channel: None, focus: Focus::Parts };
        let after = s.clone().reduce(Action::Show { show, at_ms: 0.0 });
        assert_eq!((after.variant, after.selected.as_str()), (TC, "dec.1"));
        assert!(after.variant_note.is_some(), "the note stays until the user picks a variant");
        assert!(after.reduce(Action::SetVariant { variant: TN, at_ms: 0.0 }).variant_note.is_none());
    }
}

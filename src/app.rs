//! The page: spawns the engine worker, runs one trace on load and on every click of "Run".

use crate::components::{StageTable, StatusLine};
use crate::protocol::{Request, TraceRequest};
use crate::state::{Action, State};
use crate::worker::EngineWorker;
use gloo_worker::Spawnable;
use skipscope_engine::{ModelConfig, Skip, Upsample};
use yew::prelude::*;

/// Where Trunk puts the worker's JavaScript (`data-bin="worker"`), relative to the page.
const WORKER_PATH: &str = "worker.js";

/// The model traced until trained weights exist.
pub const DEMO_CONFIG: ModelConfig = ModelConfig { in_channels: 3, n_classes: 11, depth: 4, width: 8, upsample: Upsample::Transposed, skip: Skip::Add };
pub const DEMO_SEED: u64 = 1;
pub const DEMO_HEIGHT: usize = 192;
pub const DEMO_WIDTH: usize = 256;

#[function_component]
pub fn App() -> Html {
    let state = use_reducer(State::default);
    let bridge = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| EngineWorker::spawner().callback(move |r| dispatcher.dispatch(Action::Response(r))).spawn(WORKER_PATH))
    };
    let run = {
        let (state, bridge) = (state.clone(), bridge.clone());
        Callback::from(move |_: ()| {
            let run = state.run + 1;
            state.dispatch(Action::Start { run });
            let request = TraceRequest { run, config: DEMO_CONFIG, seed: DEMO_SEED, height: DEMO_HEIGHT, width: DEMO_WIDTH };
            bridge.send(Request::Trace(request));
        })
    };
    {
        let run = run.clone();
        use_effect_with((), move |_| run.emit(()));
    }
    let onclick = run.reform(|_: MouseEvent| ());
    let c = DEMO_CONFIG;
    html! {
        <main>
            <h1>{ "SkipScope" }</h1>
            <p class="warning">
                <strong>{ "Random weights: " }</strong>
                { "this model is untrained (randomly initialised, seed " }{ DEMO_SEED }
                { "), so its output means nothing yet. The page only proves that the engine runs in a Web Worker and reports every stage." }
            </p>
            <p>
                { format!("Model {}: depth {}, width {}, {} classes; input: a synthetic {} x {} x {} gradient image.",
                    c.variant(), c.depth, c.width, c.n_classes, c.in_channels, DEMO_HEIGHT, DEMO_WIDTH) }
            </p>
            <p>
                <button {onclick} disabled={state.running()}>{ "Run" }</button>
            </p>
            <StatusLine status={state.status.clone()} model={state.model.clone()} stages={state.stages.len()} />
            <StageTable stages={state.stages.clone()} />
        </main>
    }
}

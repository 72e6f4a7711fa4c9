/// A panic must not leave a silently frozen page: log it and say so on the page.
fn show_panic(info: &std::panic::PanicHookInfo) {
    let message = format!("SkipScope stopped on an internal error; please reload the page. ({info})");
    web_sys::console::error_1(&message.clone().into());
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let (Ok(p), Some(body)) = (document.create_element("p"), document.body()) else { return };
    p.set_class_name("error fatal");
    p.set_attribute("role", "alert").ok();
    p.set_text_content(Some(&message));
    if let Some(first) = body.first_child() {
        body.insert_before(&p, Some(&first)).ok();
    } else {
        body.append_child(&p).ok();
    }
}

/// What the first render's hooks will ask for, requested before it (it takes the page's
/// thread for a while): the manifest, the opening sample, and the default model's weights
/// when the page opens on that model.
fn prefetch_first_files() {
    use skipscope::state::{State, DEFAULT_DATASET, DEFAULT_VARIANT};
    use skipscope::{fetch, manifest, samples};
    let asked = skipscope::url::read();
    let opening = State::from_url(&asked);
    fetch::prefetch(manifest::URL);
    fetch::prefetch(&samples::url(samples::opening(opening.dataset, asked.sample.as_deref())));
    if (opening.dataset, opening.variant) == (DEFAULT_DATASET, DEFAULT_VARIANT) {
        fetch::prefetch(manifest::DEFAULT_WEIGHTS_URL);
    }
}

/// How long the first render waits after the mask worker's spawn (see `main`).
const FIRST_RENDER_AFTER_MS: u32 = 40;

fn main() {
    std::panic::set_hook(Box::new(show_panic));
    if skipscope::learn::view::requested() {
        skipscope::offline::register_service_worker();
        yew::Renderer::<skipscope::learn::view::LearnApp>::new().render();
    } else {
        skipscope::hooks::start_mask_worker_early();
        prefetch_first_files();
        // The first render is one long task (100-140 ms here), and Chromium starts a
        // worker's thread only when the page's thread takes the browser's answer, tens of
        // milliseconds after the spawn: rendered in the next task, the cold page's traces
        // had the worker's script start after the render (370-415 ms from navigation);
        // rendered 40 ms later, before it (150 ms). See docs/bench/page-profile.md.
        gloo::timers::callback::Timeout::new(FIRST_RENDER_AFTER_MS, || {
            yew::Renderer::<skipscope::app::App>::new().render();
        })
        .forget();
    }
}

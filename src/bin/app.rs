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

fn main() {
    std::panic::set_hook(Box::new(show_panic));
    if skipscope::learn::view::requested() {
        skipscope::offline::register_service_worker();
        yew::Renderer::<skipscope::learn::view::LearnApp>::new().render();
    } else {
        skipscope::hooks::start_mask_worker_early();
        // The first render is one long task, and Chromium starts a worker only once the
        // page's thread is free: render in the next task, so the worker boots meanwhile.
        gloo::timers::callback::Timeout::new(0, || {
            yew::Renderer::<skipscope::app::App>::new().render();
        })
        .forget();
    }
}

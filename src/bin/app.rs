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
    skipscope::offline::register_service_worker();
    if skipscope::learn::view::requested() {
        yew::Renderer::<skipscope::learn::view::LearnApp>::new().render();
    } else {
        skipscope::hooks::start_mask_worker_early();
        yew::Renderer::<skipscope::app::App>::new().render();
    }
}

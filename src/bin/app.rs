fn main() {
    yew::Renderer::<skipscope::app::App>::new().render();
}

use gloo_worker::Registrable;

fn main() {
    std::panic::set_hook(Box::new(skipscope::worker::report_panic));
    skipscope::worker::EngineWorker::registrar().register();
}

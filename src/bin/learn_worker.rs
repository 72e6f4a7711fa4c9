use gloo_worker::Registrable;

fn main() {
    std::panic::set_hook(Box::new(skipscope::learn::worker::report_panic));
    skipscope::learn::worker::LearnWorker::registrar().register();
}

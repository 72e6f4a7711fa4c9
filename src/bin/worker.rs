use gloo_worker::Registrable;

fn main() {
    skipscope::worker::EngineWorker::registrar().register();
}

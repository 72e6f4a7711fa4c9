//! The user's own models: weights files of the family opened by the file picker or a drop,
//! one per variant. Each file is read, its header checked here (cheap: no tensor is
//! touched), then sent to the worker, which validates every tensor and answers `Loaded`
//! (the model is shown) or `LoadFailed` (the message is shown; whatever was loaded before
//! stays).

use super::WorkerHandle;
use crate::protocol::{Dataset, Request};
use crate::state::{Action, State};
use skipscope_engine::catalog::OWN_MAX_BYTES;
use skipscope_engine::weights;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

/// Why `file` (of `size` bytes) is refused before it is read, if it is.
pub fn refused_before_reading(size: f64) -> Option<String> {
    (size > OWN_MAX_BYTES)
        .then(|| format!("it is {:.0} MB, larger than any model the page opens ({:.0} MB at most)", size / 1048576.0, OWN_MAX_BYTES / 1048576.0))
}

async fn read(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|_| "the browser could not read the file".to_string())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A callback that opens the files it is given.
#[hook]
pub fn use_own_models(state: &UseReducerHandle<State>, worker: &WorkerHandle) -> Callback<Vec<web_sys::File>> {
    let (d, worker) = (state.dispatcher(), worker.clone());
    use_callback((), move |files: Vec<web_sys::File>, _| {
        for file in files {
            let (d, worker) = (d.clone(), worker.clone());
            let name = file.name();
            if let Some(message) = refused_before_reading(file.size()) {
                d.dispatch(Action::OwnRefused { name, message });
                continue;
            }
            wasm_bindgen_futures::spawn_local(async move {
                let bytes = match read(&file).await {
                    Ok(bytes) => bytes,
                    Err(message) => return d.dispatch(Action::OwnRefused { name, message }),
                };
                match weights::read_meta(&bytes) {
                    Err(e) => d.dispatch(Action::OwnRefused { name, message: format!("it cannot be read as a SkipScope weights file ({e})") }),
                    Ok(meta) => {
                        let serial = worker.serials.next();
                        d.dispatch(Action::OwnOpened { serial, name });
                        worker.send(Request::Load { serial, dataset: Dataset::Own, variant: meta.config.variant(), bytes });
                    }
                }
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_above_the_limit_are_refused_before_reading() {
        assert_eq!(refused_before_reading(1e6), None);
        assert_eq!(refused_before_reading(OWN_MAX_BYTES), None);
        assert_eq!(refused_before_reading(300.0 * 1048576.0).as_deref(), Some("it is 300 MB, larger than any model the page opens (128 MB at most)"));
    }
}

//! `models/manifest.json`: the engine's catalog types (`skipscope_engine::catalog`), shared
//! with the trainer that writes it.

pub use skipscope_engine::catalog::{Manifest, ManifestEntry};

/// Where the page reads the manifest (preloaded by `index.html`).
pub const URL: &str = "models/manifest.json";

/// The weights file of the first variant a visitor sees ([`crate::state::DEFAULT_DATASET`],
/// [`crate::state::DEFAULT_VARIANT`]), as the manifest lists it (preloaded by `index.html`,
/// prefetched by `bin/app.rs`; both tested against the published manifest).
pub const DEFAULT_WEIGHTS_URL: &str = "models/camvid-transposed-concat.safetensors";

/// Where the page downloads `entry`'s weights file (next to the manifest).
pub fn weights_url(entry: &ManifestEntry) -> String {
    format!("models/{}", entry.file)
}

/// Parses the manifest; an unknown format version is an error.
pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    Manifest::parse(bytes).map_err(|e| format!("models/manifest.json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{DEFAULT_DATASET, DEFAULT_VARIANT};

    #[test]
    fn the_first_files_are_the_published_ones_and_preloaded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = parse(&std::fs::read(root.join("www").join(URL)).unwrap()).unwrap();
        let default = manifest
            .models
            .iter()
            .find(|e| e.dataset == DEFAULT_DATASET && e.upsample == DEFAULT_VARIANT.upsample && e.skip == DEFAULT_VARIANT.skip)
            .expect("the default variant is published");
        assert_eq!(weights_url(default), DEFAULT_WEIGHTS_URL);
        let index = std::fs::read_to_string(root.join("index.html")).unwrap();
        for url in [URL, DEFAULT_WEIGHTS_URL] {
            assert!(index.contains(&format!(r#"<link rel="preload" href="{url}" as="fetch""#)), "index.html preloads {url}");
        }
    }
}

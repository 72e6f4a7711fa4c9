//! `models/manifest.json`: the engine's catalog types (`skipscope_engine::catalog`), shared
//! with the trainer that writes it.

pub use skipscope_engine::catalog::{Manifest, ManifestEntry};

/// Parses the manifest; an unknown format version is an error.
pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    Manifest::parse(bytes).map_err(|e| format!("models/manifest.json: {e}"))
}

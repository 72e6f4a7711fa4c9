//! Working offline: the weights the page downloaded are kept in Cache Storage (the page reads
//! them from there first, and only takes them, from there or the network, after
//! [`skipscope_engine::catalog::ManifestEntry::verify`]), and a service worker (`www/sw.js`)
//! keeps the app itself (page, scripts, wasm, style, samples, manifest) so that after one
//! visit the page works without a network. Both need a secure context (HTTPS or localhost);
//! elsewhere the page works as before, online only.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The cache the page keeps weights in; `www/sw.js` uses the same name for the app's files.
pub const CACHE: &str = "skipscope-v1";

fn cache_storage() -> Option<web_sys::CacheStorage> {
    let window = web_sys::window()?;
    let caches = js_sys::Reflect::get(&window, &"caches".into()).ok()?;
    (!caches.is_undefined() && !caches.is_null()).then(|| caches.unchecked_into())
}

async fn open() -> Option<web_sys::Cache> {
    JsFuture::from(cache_storage()?.open(CACHE)).await.ok().map(JsValue::unchecked_into)
}

/// The bytes kept for `url`, if any.
pub async fn get(url: &str) -> Option<Vec<u8>> {
    let found = JsFuture::from(open().await?.match_with_str(url)).await.ok()?;
    let response: web_sys::Response = found.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Keeps `bytes` for `url` (best effort: a full or missing cache only costs a download).
pub async fn put(url: &str, bytes: &[u8]) {
    let Some(cache) = open().await else { return };
    let mut copy = bytes.to_vec();
    if let Ok(response) = web_sys::Response::new_with_opt_u8_array(Some(&mut copy)) {
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}

/// Forgets what is kept for `url` (a damaged copy).
pub async fn delete(url: &str) {
    if let Some(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
}

/// The SHA-256 of `bytes`, lowercase hex, by the browser's Web Crypto (`crypto.subtle`,
/// native code: milliseconds for a weights file, where the engine's own, in wasm, took a
/// few hundred on a cold page); `None` where the page has no `crypto.subtle` (an insecure
/// context) or it fails.
pub async fn native_sha256_hex(bytes: &[u8]) -> Option<String> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = js_sys::Reflect::get(&crypto, &"subtle".into()).ok().filter(|s| !s.is_undefined() && !s.is_null())?;
    let digest: js_sys::Function = js_sys::Reflect::get(&subtle, &"digest".into()).ok()?.dyn_into().ok()?;
    let data = js_sys::Uint8Array::from(bytes);
    let promise: js_sys::Promise = digest.call2(&subtle, &"SHA-256".into(), &data).ok()?.dyn_into().ok()?;
    let hash = js_sys::Uint8Array::new(&JsFuture::from(promise).await.ok()?).to_vec();
    Some(hash.iter().map(|b| format!("{b:02x}")).collect())
}

/// [`ManifestEntry::verify`](skipscope_engine::catalog::ManifestEntry::verify) with the
/// browser's digest where it has one ([`native_sha256_hex`]), else the engine's.
pub async fn verify(entry: &skipscope_engine::catalog::ManifestEntry, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() == entry.bytes && entry.sha256.is_some() {
        if let Some(hex) = native_sha256_hex(bytes).await {
            return entry.verify_with(bytes, |_| hex);
        }
    }
    entry.verify(bytes)
}

/// Registers the service worker `sw.js`, next to the page (so under any path the page is
/// served from), where the browser has service workers.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    let has = js_sys::Reflect::get(&navigator, &"serviceWorker".into()).is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if has {
        let promise = navigator.service_worker().register("sw.js");
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = JsFuture::from(promise).await {
                web_sys::console::warn_1(&format!("SkipScope: no offline copy (service worker not registered: {e:?})").into());
            }
        });
    }
}

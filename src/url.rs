//! The view in the URL's query, so that a view can be shared:
//! `?data=ccp&model=transposed-add&sample=astronaut&stage=dec.1`. Unknown values are ignored.

use crate::protocol::{Dataset, Variant};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UrlState {
    pub dataset: Option<Dataset>,
    pub variant: Option<Variant>,
    pub sample: Option<String>,
    pub stage: Option<String>,
}

/// Reads the current location's query.
pub fn read() -> UrlState {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else { return UrlState::default() };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return UrlState::default() };
    UrlState {
        dataset: params.get("data").and_then(|d| d.parse().ok()),
        variant: params.get("model").and_then(|m| m.parse().ok()),
        sample: params.get("sample").filter(|s| crate::samples::is_sample(s)),
        stage: params.get("stage").filter(|s| s.len() < 32),
    }
}

/// Replaces the current history entry's query (no reload, no new entry).
pub fn write(state: &UrlState) {
    let Ok(params) = web_sys::UrlSearchParams::new() else { return };
    if let Some(d) = state.dataset {
        params.append("data", d.name());
    }
    if let Some(v) = state.variant {
        params.append("model", &v.to_string());
    }
    if let Some(s) = &state.sample {
        params.append("sample", s);
    }
    if let Some(s) = &state.stage {
        params.append("stage", s);
    }
    let query = format!("?{}", String::from(params.to_string()));
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&query));
    }
}

//! The view in the URL's query, so that a view can be shared:
//! `?data=ccp&model=transposed-add&sample=astronaut&stage=dec.1&lesson=3&at=120,33`. Unknown values are ignored.
//! [`parse`] and [`query`] are pure; [`read`] and [`write()`] use the window's location.

use crate::protocol::{Dataset, Variant};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UrlState {
    pub dataset: Option<Dataset>,
    pub variant: Option<Variant>,
    pub sample: Option<String>,
    pub stage: Option<String>,
    /// The lesson's step, from 1 (0: the lesson is closed).
    pub lesson: Option<usize>,
    /// The pinned position, `at=y,x` in input pixels.
    pub at: Option<crate::position::Position>,
}

/// `%XX` escapes and `+` (a space) decoded, as `URLSearchParams` does; bad escapes stay.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes all but `A-Z a-z 0-9 - . _ *` and `,` (legal in a query, and `at=y,x` reads
/// better), spaces as `+`, as `URLSearchParams` does otherwise.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' | b',' => (c as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{c:02X}"),
        })
        .collect()
}

/// The view a query (`?a=b&c=d`, the `?` optional) asks for; the first value of a key counts.
pub fn parse(search: &str) -> UrlState {
    let pairs: Vec<(String, String)> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    UrlState {
        dataset: get("data").and_then(|d| d.parse().ok()),
        variant: get("model").and_then(|m| m.parse().ok()),
        sample: get("sample").filter(|s| crate::samples::is_sample(s)),
        stage: get("stage").filter(|s| s.len() < 32),
        lesson: get("lesson").and_then(|l| l.parse().ok()).filter(|l| *l <= crate::lesson::STEPS),
        at: get("at").and_then(|a| crate::position::parse(&a)),
    }
}

/// The query of `state`, `?` first.
pub fn query(state: &UrlState) -> String {
    let params = [
        ("data", state.dataset.map(|d| d.name().to_string())),
        ("model", state.variant.map(|v| v.to_string())),
        ("sample", state.sample.clone()),
        ("stage", state.stage.clone()),
        ("lesson", state.lesson.map(|l| l.to_string())),
        ("at", state.at.map(crate::position::format)),
    ];
    let parts: Vec<String> = params.into_iter().filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(&v)))).collect();
    format!("?{}", parts.join("&"))
}

/// Reads the current location's query.
pub fn read() -> UrlState {
    web_sys::window().and_then(|w| w.location().search().ok()).map(|s| parse(&s)).unwrap_or_default()
}

/// Replaces the current history entry's query (no reload, no new entry).
pub fn write(state: &UrlState) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&query(state)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skipscope_engine::{Skip, Upsample};

    #[test]
    fn a_query_round_trips_and_unknown_values_are_ignored() {
        let u = parse("?data=ccp&model=transposed-add&sample=astronaut&stage=dec.1");
        let want = UrlState {
            dataset: Some(Dataset::Ccp),
            variant: Some(Variant::new(Upsample::Transposed, Skip::Add)),
            sample: Some("astronaut".into()),
            stage: Some("dec.1".into()),
            lesson: None,
            at: None,
        };
        assert_eq!(u, want);
        assert_eq!(query(&want), "?data=ccp&model=transposed-add&sample=astronaut&stage=dec.1");
        assert_eq!(parse(&query(&want)), want);
        assert_eq!(parse("data=mars&model=bilinear-sum&sample=../etc&stage=").stage.as_deref(), Some(""));
        let bad = parse("?data=mars&model=bilinear-sum&sample=../etc");
        assert_eq!(bad, UrlState::default());
        assert_eq!(parse(""), UrlState::default());
        assert!(parse(&format!("?stage={}", "x".repeat(40))).stage.is_none(), "overlong stage names are dropped");
        assert_eq!(parse("?lesson=3").lesson, Some(3));
        assert_eq!(query(&parse("?lesson=3")), "?lesson=3");
        assert_eq!(parse("?lesson=99").lesson, None, "a step the lesson lacks is dropped");
        assert_eq!(parse("?lesson=two").lesson, None);
        let at = parse("?stage=dec.1&at=120,33");
        assert_eq!(at.at, Some(crate::position::Position { y: 120, x: 33 }));
        assert_eq!(query(&at), "?stage=dec.1&at=120,33");
        assert_eq!(parse(&query(&at)), at);
        assert_eq!(parse("?at=1;2").at, None);
    }

    #[test]
    fn values_are_escaped_as_url_search_params_does() {
        let odd = UrlState { stage: Some("a b&c=d%é".into()), ..UrlState::default() };
        assert_eq!(query(&odd), "?stage=a+b%26c%3Dd%25%C3%A9");
        assert_eq!(parse(&query(&odd)), odd);
        assert_eq!(parse("?stage=50%").stage.as_deref(), Some("50%"), "a bad escape stays");
        assert_eq!(parse("?stage=%41&stage=b").stage.as_deref(), Some("A"), "the first value counts");
        assert_eq!(query(&UrlState::default()), "?");
    }
}

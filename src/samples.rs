//! The built-in sample photos and which models they suit. The files are
//! `www/samples/<id>.jpg`; sources and licences are in `www/samples/LICENSES.md`.
//!
//! Each sample is offered only with the models it suits (`suits`), and a few are also
//! offered, labelled as such, outside their domain (`out_of_domain`): a cat or a coffee
//! cup through a street-scene model shows what a network does with what it never saw.

use crate::protocol::Dataset;

pub struct Sample {
    pub id: &'static str,
    pub caption: &'static str,
    /// The datasets whose models it suits, best first: offered first, as a fitting photo.
    pub suits: &'static [Dataset],
    /// The datasets whose models it is also offered with, labelled "out of domain".
    pub out_of_domain: &'static [Dataset],
}

pub const SAMPLES: [Sample; 8] = [
    Sample {
        id: "street",
        caption: "A residential street at road level: road, zebra crossing, houses, trees, lamp posts, a sign, sky (Adrien Pavie, MIT)",
        suits: &[Dataset::Camvid],
        out_of_domain: &[],
    },
    Sample {
        id: "road",
        caption: "A dashcam frame on a multi-lane road: cars, trees, street lights, sky (comma.ai, MIT)",
        suits: &[Dataset::Camvid],
        out_of_domain: &[],
    },
    Sample { id: "highway", caption: "A dashcam frame on a highway: cars, large trees, sky (Udacity, MIT)", suits: &[Dataset::Camvid], out_of_domain: &[] },
    Sample { id: "astronaut", caption: "Eileen Collins, NASA (public domain)", suits: &[Dataset::Ccp], out_of_domain: &[] },
    Sample { id: "camera", caption: "A photographer at a tripod, Lav Varshney (CC0)", suits: &[Dataset::Ccp], out_of_domain: &[] },
    Sample { id: "chelsea", caption: "Chelsea the cat, Stefan van der Walt (CC0)", suits: &[], out_of_domain: &[Dataset::Camvid] },
    Sample { id: "coffee", caption: "A coffee cup, Rachel Michetti (CC0)", suits: &[], out_of_domain: &[Dataset::Camvid] },
    Sample { id: "rocket", caption: "Falcon 9 launch, SpaceX (public domain)", suits: &[], out_of_domain: &[Dataset::Camvid] },
];

impl Sample {
    /// Whether it is a photo of what `dataset`'s models were trained on.
    pub fn suits(&self, dataset: Dataset) -> bool {
        self.suits.contains(&dataset)
    }
}

/// The samples offered with `dataset`'s models: those that suit it first, then those
/// offered out of domain (never empty; the first suits); with an own model, every sample
/// (none known to suit it).
pub fn for_dataset(dataset: Dataset) -> Vec<&'static Sample> {
    if dataset == Dataset::Own {
        return SAMPLES.iter().collect();
    }
    let suited = SAMPLES.iter().filter(|s| s.suits(dataset));
    suited.chain(SAMPLES.iter().filter(|s| s.out_of_domain.contains(&dataset))).collect()
}

/// The first sample offered with `dataset`'s models: the one a page of them opens on.
pub fn first(dataset: Dataset) -> &'static Sample {
    for_dataset(dataset)[0]
}

/// The sample a page of `dataset`'s models opens on: `asked` (the URL's) if offered with
/// them, else their first.
pub fn opening(dataset: Dataset, asked: Option<&str>) -> &'static str {
    let offered = for_dataset(dataset);
    offered.iter().find(|s| Some(s.id) == asked).unwrap_or(&offered[0]).id
}

/// Where sample `id`'s photo is, relative to the page.
pub fn url(id: &str) -> String {
    format!("samples/{id}.jpg")
}

/// Whether sample `id` is offered with `dataset`'s models.
pub fn offered(id: &str, dataset: Dataset) -> bool {
    for_dataset(dataset).iter().any(|s| s.id == id)
}

pub fn get(id: &str) -> Option<&'static Sample> {
    SAMPLES.iter().find(|s| s.id == id)
}

pub fn is_sample(id: &str) -> bool {
    get(id).is_some()
}

/// What photos the models of `dataset` segment well, for the upload hint.
pub fn upload_hint(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Camvid => "Street scenes at road level work best (a dashcam view): this model was trained on CamVid's drives through Cambridge.",
        Dataset::Ccp => "Photos of one standing person work best: this model was trained on CCP's full-body street-fashion photos.",
        Dataset::Own => "Photos like those your model was trained on work best.",
    }
}

/// What the picker says over the samples offered out of domain.
pub fn out_of_domain_note(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Camvid => "Not streets: see what the model does out of its domain",
        Dataset::Ccp => "Not people: see what the model does out of its domain",
        Dataset::Own => "The samples: see what your model makes of them",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_opens_on_the_asked_sample_if_its_models_offer_it() {
        assert_eq!(opening(Dataset::Camvid, Some("road")), "road");
        assert_eq!(opening(Dataset::Camvid, Some("chelsea")), "chelsea", "out of domain, but offered");
        assert_eq!(opening(Dataset::Camvid, Some("astronaut")), "street", "not offered: the first");
        assert_eq!(opening(Dataset::Ccp, None), "astronaut");
        assert_eq!(url("street"), "samples/street.jpg");
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www").join(url("street")).is_file());
    }

    #[test]
    fn every_dataset_offers_samples_that_suit_it_first() {
        for d in Dataset::ALL {
            let offered = for_dataset(d);
            assert!(!offered.is_empty(), "{d:?} has no sample");
            assert!(first(d).suits(d), "{d:?} opens on a photo that suits it");
            assert!(offered.iter().all(|s| is_sample(s.id) && (s.suits(d) || s.out_of_domain.contains(&d))));
            let fitting = offered.iter().take_while(|s| s.suits(d)).count();
            assert!(offered[fitting..].iter().all(|s| !s.suits(d)), "the fitting samples come first");
            assert!(!upload_hint(d).is_empty());
        }
        assert_eq!(first(Dataset::Camvid).id, "street");
        assert_eq!(first(Dataset::Ccp).id, "astronaut");
        assert!(!offered("astronaut", Dataset::Camvid), "the street model is not shown an astronaut");
        assert!(!offered("street", Dataset::Ccp));
        assert!(offered("coffee", Dataset::Camvid) && !get("coffee").unwrap().suits(Dataset::Camvid));
        assert!(!is_sample("../etc"));
        // Every sample ships with the page, and its licence is recorded.
        let licences = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/samples/LICENSES.md")).unwrap();
        for s in &SAMPLES {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("www/samples/{}.jpg", s.id));
            assert!(path.is_file(), "{}", path.display());
            assert!(licences.contains(&format!("{}.jpg", s.id)), "{} has no licence entry", s.id);
        }
        // The service worker keeps exactly these for offline use.
        let sw = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/sw.js")).unwrap();
        let listed = sw.lines().find(|l| l.starts_with("const SAMPLES")).unwrap();
        let mut ids: Vec<&str> = SAMPLES.iter().map(|s| s.id).collect();
        ids.sort();
        assert_eq!(listed, format!("const SAMPLES = [{}];", ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", ")), "www/sw.js");
    }
}

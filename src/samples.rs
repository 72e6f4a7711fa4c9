//! The built-in sample photos and which models they suit. The files are
//! `www/samples/<id>.jpg`; sources and licences are in `www/samples/LICENSES.md`.

use crate::protocol::Dataset;

pub struct Sample {
    pub id: &'static str,
    pub caption: &'static str,
    /// The datasets whose models it is offered with, best first.
    pub suits: &'static [Dataset],
}

pub const SAMPLES: [Sample; 5] = [
    Sample { id: "astronaut", caption: "Eileen Collins, NASA (public domain)", suits: &[Dataset::Camvid, Dataset::Ccp] },
    Sample { id: "camera", caption: "A photographer at a tripod, Lav Varshney (CC0)", suits: &[Dataset::Ccp] },
    Sample { id: "chelsea", caption: "Chelsea the cat, Stefan van der Walt (CC0)", suits: &[Dataset::Camvid] },
    Sample { id: "coffee", caption: "A coffee cup, Rachel Michetti (CC0)", suits: &[Dataset::Camvid] },
    Sample { id: "rocket", caption: "Falcon 9 launch, SpaceX (public domain)", suits: &[Dataset::Camvid] },
];

/// The samples offered with `dataset`'s models, in list order (never empty).
pub fn for_dataset(dataset: Dataset) -> Vec<&'static Sample> {
    SAMPLES.iter().filter(|s| s.suits.contains(&dataset)).collect()
}

pub fn is_sample(id: &str) -> bool {
    SAMPLES.iter().any(|s| s.id == id)
}

/// What photos the models of `dataset` segment well, for the upload hint.
pub fn upload_hint(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Camvid => "Street scenes work best: this model was trained on CamVid road scenes, and no freely licensed street photo ships with the page.",
        Dataset::Ccp => "Photos of one standing person work best: this model was trained on CCP's full-body street-fashion photos.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_offers_samples_and_a_hint() {
        for d in Dataset::ALL {
            let offered = for_dataset(d);
            assert!(!offered.is_empty(), "{d:?} has no sample");
            assert!(offered.iter().all(|s| is_sample(s.id) && s.suits.contains(&d)));
            assert!(!upload_hint(d).is_empty());
        }
        assert!(for_dataset(Dataset::Ccp).iter().any(|s| s.id == "astronaut"));
        assert!(!is_sample("../etc"));
        // Every sample ships with the page.
        for s in &SAMPLES {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("www/samples/{}.jpg", s.id));
            assert!(path.is_file(), "{}", path.display());
        }
    }
}

//! Segmentation datasets on disk: an RGB image and a label map per sample, decoded and
//! validated once, kept in memory as `u8`.
//!
//! CamVid (`../shared/data/camvid`, see its README): `SPLIT/NAME.png` images and
//! `SPLITannot/NAME.png` 8-bit label maps of the same size, classes 0..=10, 11 = void.

use anyhow::{bail, ensure, Context, Result};
use ndarray::{Array2, Array3};
use skipscope_engine::catalog::Dataset;
use std::path::{Path, PathBuf};

/// One decoded sample: `image` `[H, W, 3]` RGB, `label` `[H, W]` class indices (or void).
#[derive(Clone, Debug)]
pub struct Sample {
    pub name: String,
    pub image: Array3<u8>,
    pub label: Array2<u8>,
}

/// A split of a dataset, decoded and validated.
#[derive(Clone, Debug)]
pub struct Split {
    pub samples: Vec<Sample>,
    pub n_classes: usize,
    pub void: Option<u8>,
}

pub use skipscope_engine::catalog::{camvid_classes, CAMVID_VOID};

/// Decodes an RGB image file.
pub fn read_image(path: &Path) -> Result<Array3<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let img = image::load_from_memory(&bytes).with_context(|| format!("{} is not a readable image", path.display()))?.to_rgb8();
    let (w, h) = img.dimensions();
    Ok(Array3::from_shape_vec((h as usize, w as usize, 3), img.into_raw()).expect("RGB buffer is H*W*3"))
}

/// Decodes an 8-bit label map (a grayscale PNG holding one index per pixel).
pub fn read_label(path: &Path) -> Result<Array2<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let img = image::load_from_memory(&bytes).with_context(|| format!("{} is not a readable label image", path.display()))?;
    ensure!(matches!(img.color(), image::ColorType::L8), "{} must be an 8-bit single-channel label map, found {:?}", path.display(), img.color());
    let img = img.to_luma8();
    let (w, h) = img.dimensions();
    Ok(Array2::from_shape_vec((h as usize, w as usize), img.into_raw()).expect("L8 buffer is H*W"))
}

/// The files in `dir` with extension `ext` (any case), sorted by name.
fn list_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    names.sort();
    Ok(names)
}

/// Loads `root/split` and `root/{split}annot`, checking that every image has a label of
/// the same size whose values are classes below `n_classes` or `void`.
pub fn load_split(root: &Path, split: &str, n_classes: usize, void: Option<u8>, limit: Option<usize>) -> Result<Split> {
    let image_dir = root.join(split);
    let label_dir = root.join(format!("{split}annot"));
    let names = list_files(&image_dir, "png")?;
    let names = &names[..limit.map_or(names.len(), |n| n.min(names.len()))];
    if names.is_empty() {
        bail!("no PNG images in {}", image_dir.display());
    }
    let samples = names
        .iter()
        .map(|path| {
            let file = path.file_name().expect("listed files have names");
            let label_path = label_dir.join(file);
            let image = read_image(path)?;
            let label = read_label(&label_path)?;
            let (h, w) = (image.dim().0, image.dim().1);
            ensure!(label.dim() == (h, w), "{} is {}x{} but its image is {}x{}", label_path.display(), label.dim().1, label.dim().0, w, h);
            if let Some(bad) = label.iter().find(|&&v| v as usize >= n_classes && Some(v) != void) {
                bail!(
                    "{} holds label {bad}, but the dataset has classes 0..{}{}",
                    label_path.display(),
                    n_classes - 1,
                    void.map(|v| format!(" and void {v}")).unwrap_or_default()
                );
            }
            Ok(Sample { name: file.to_string_lossy().into_owned(), image, label })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Split { samples, n_classes, void })
}

/// The dataset's folder when none is given: `../shared/data/<name>`.
pub fn default_root(dataset: Dataset) -> PathBuf {
    PathBuf::from(format!("../shared/data/{}", dataset.name()))
}

/// One split (`train`, `val`, `test`) of `dataset` from `root`, validated.
pub fn load(dataset: Dataset, root: &Path, split: &str, limit: Option<usize>) -> Result<Split> {
    match dataset {
        Dataset::Camvid => load_split(root, split, camvid_classes().len(), Some(CAMVID_VOID), limit),
        Dataset::Ccp => load_ccp(root, split, limit),
        Dataset::Own => bail!("\"own\" names a model a user opened in the page; it has no data to load"),
    }
}

/// CCP's fixed split by sorted file name: the first 803 images train, the next 100
/// validate, the last 100 test.
pub fn ccp_range(split: &str) -> Result<std::ops::Range<usize>> {
    Ok(match split {
        "train" => 0..803,
        "val" => 803..903,
        "test" => 903..1003,
        other => bail!("CCP has the splits train, val and test, not {other:?}"),
    })
}

/// The mapping of CCP's labels (`labels.txt`: `index name` per line) to the four classes
/// of [`skipscope_engine::catalog::ccp_classes`]: `null` -> background (0), `skin` -> 1, `hair` -> 2, every other
/// label -> clothes (3).
pub fn ccp_mapping(labels_txt: &str) -> Result<Vec<u8>> {
    let mut mapping = Vec::new();
    for (line_no, line) in labels_txt.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let index: usize = parts.next().and_then(|i| i.parse().ok()).with_context(|| format!("labels.txt line {}: no index", line_no + 1))?;
        let name = parts.next().with_context(|| format!("labels.txt line {}: no name", line_no + 1))?;
        ensure!(index == mapping.len(), "labels.txt line {}: index {index}, expected {}", line_no + 1, mapping.len());
        mapping.push(match name {
            "null" => 0,
            "skin" => 1,
            "hair" => 2,
            _ => 3,
        });
    }
    for (needed, class) in [("null", 0u8), ("skin", 1), ("hair", 2)] {
        ensure!(mapping.contains(&class), "labels.txt has no `{needed}` label");
    }
    Ok(mapping)
}

/// Loads a CCP split (`images/NNNN.jpg`, `labels/NNNN.png`, `labels.txt`) with its labels
/// mapped to four classes; a label index beyond `labels.txt` is an error.
pub fn load_ccp(root: &Path, split: &str, limit: Option<usize>) -> Result<Split> {
    let labels_txt = std::fs::read_to_string(root.join("labels.txt")).with_context(|| format!("reading {}", root.join("labels.txt").display()))?;
    let mapping = ccp_mapping(&labels_txt)?;
    let image_dir = root.join("images");
    let names = list_files(&image_dir, "jpg")?;
    let range = ccp_range(split)?;
    ensure!(names.len() >= range.end, "{} holds {} images; the {split} split needs {}", image_dir.display(), names.len(), range.end);
    let mut picked = names[range].to_vec();
    if let Some(n) = limit {
        picked.truncate(n);
    }
    let samples = picked
        .iter()
        .map(|path| {
            let stem = path.file_stem().expect("listed files have names").to_string_lossy().into_owned();
            let label_path = root.join("labels").join(format!("{stem}.png"));
            let image = read_image(path)?;
            let raw = read_label(&label_path)?;
            ensure!(raw.dim() == (image.dim().0, image.dim().1), "{} is not the size of its image", label_path.display());
            if let Some(bad) = raw.iter().find(|&&v| v as usize >= mapping.len()) {
                bail!("{} holds label {bad}, but labels.txt lists 0..{}", label_path.display(), mapping.len() - 1);
            }
            Ok(Sample { name: format!("{stem}.jpg"), image, label: raw.mapv(|v| mapping[v as usize]) })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Split { samples, n_classes: 4, void: None })
}

/// Median-frequency class weights (Eigen and Fergus, as in SegNet): `freq(c)` is the
/// pixels of class `c` over the pixels of the images where `c` appears;
/// `weight(c) = median(freq) / freq(c)`. A class that never appears gets weight 0.
pub fn median_frequency_weights(split: &Split) -> Vec<f64> {
    let k = split.n_classes;
    let mut class_pixels = vec![0u64; k];
    let mut image_pixels = vec![0u64; k];
    for s in &split.samples {
        let mut counts = vec![0u64; k];
        for &v in s.label.iter() {
            if (v as usize) < k && Some(v) != split.void {
                counts[v as usize] += 1;
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                class_pixels[c] += counts[c];
                image_pixels[c] += s.label.len() as u64;
            }
        }
    }
    let freq: Vec<f64> = (0..k).map(|c| if image_pixels[c] > 0 { class_pixels[c] as f64 / image_pixels[c] as f64 } else { 0.0 }).collect();
    let mut present: Vec<f64> = freq.iter().copied().filter(|&f| f > 0.0).collect();
    present.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let median = match present.len() {
        0 => return vec![0.0; k],
        n if n % 2 == 1 => present[n / 2],
        n => 0.5 * (present[n / 2 - 1] + present[n / 2]),
    };
    freq.iter().map(|&f| if f > 0.0 { median / f } else { 0.0 }).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use skipscope_engine::rng::Rng;
    use skipscope_engine::synthetic::thin_shapes;

    /// Writes `n` synthetic samples (`size x size`, classes 0..3) in the CamVid layout
    /// under `root/split` and `root/{split}annot`.
    pub fn write_synthetic(root: &Path, split: &str, n: usize, size: usize, seed: u64) {
        let (images, labels) = thin_shapes(n, size, &mut Rng::new(seed));
        std::fs::create_dir_all(root.join(split)).unwrap();
        std::fs::create_dir_all(root.join(format!("{split}annot"))).unwrap();
        for i in 0..n {
            let rgb: Vec<u8> = images.slice(ndarray::s![i, .., .., ..]).iter().map(|v| ((v + 1.0) * 127.0).clamp(0.0, 255.0) as u8).collect();
            let name = format!("img{i:03}.png");
            image::RgbImage::from_raw(size as u32, size as u32, rgb).unwrap().save(root.join(split).join(&name)).unwrap();
            let label: Vec<u8> = labels.slice(ndarray::s![i, .., ..]).iter().copied().collect();
            image::GrayImage::from_raw(size as u32, size as u32, label).unwrap().save(root.join(format!("{split}annot")).join(&name)).unwrap();
        }
    }

    fn error_of(root: &Path) -> String {
        format!("{:#}", load_split(root, "train", 3, Some(11), None).unwrap_err())
    }

    #[test]
    fn loads_a_valid_split() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 3, 16, 1);
        let split = load_split(dir.path(), "train", 3, Some(11), None).unwrap();
        assert_eq!(split.samples.len(), 3);
        assert_eq!(split.samples[0].image.dim(), (16, 16, 3));
        assert_eq!(split.samples[0].name, "img000.png");
    }

    #[test]
    fn corrupt_png_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 2, 16, 1);
        std::fs::write(dir.path().join("train/img001.png"), b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
        let err = error_of(dir.path());
        assert!(err.contains("img001.png is not a readable image"), "{err}");
    }

    #[test]
    fn label_of_the_wrong_size_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 1, 16, 1);
        image::GrayImage::new(8, 16).save(dir.path().join("trainannot/img000.png")).unwrap();
        let err = error_of(dir.path());
        assert!(err.contains("trainannot/img000.png is 8x16 but its image is 16x16"), "{err}");
    }

    #[test]
    fn out_of_range_label_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 1, 16, 1);
        let mut label = image::GrayImage::new(16, 16);
        label.put_pixel(3, 4, image::Luma([7]));
        label.save(dir.path().join("trainannot/img000.png")).unwrap();
        let err = error_of(dir.path());
        assert!(err.contains("holds label 7, but the dataset has classes 0..2 and void 11"), "{err}");
    }

    #[test]
    fn colour_label_image_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_synthetic(dir.path(), "train", 1, 16, 1);
        image::RgbImage::new(16, 16).save(dir.path().join("trainannot/img000.png")).unwrap();
        assert!(error_of(dir.path()).contains("must be an 8-bit single-channel label map"));
    }

    #[test]
    fn ccp_labels_map_to_four_classes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("labels.txt"), "0 null\n1 accessories\n2 hair\n3 skin\n4 shoes\n").unwrap();
        std::fs::create_dir_all(root.join("images")).unwrap();
        std::fs::create_dir_all(root.join("labels")).unwrap();
        for i in 0..1003 {
            // Only the first images carry data; the split only needs the names listed.
            let name = format!("{:04}", i + 1);
            let (w, h) = if i < 2 { (3, 2) } else { (1, 1) };
            image::RgbImage::new(w, h).save(root.join("images").join(format!("{name}.jpg"))).unwrap();
            let labels = if i < 2 { vec![0, 1, 2, 3, 4, 2] } else { vec![0] };
            image::GrayImage::from_raw(w, h, labels).unwrap().save(root.join("labels").join(format!("{name}.png"))).unwrap();
        }
        let train = load_ccp(root, "train", Some(2)).unwrap();
        assert_eq!(train.samples[0].label.iter().copied().collect::<Vec<_>>(), vec![0, 3, 2, 1, 3, 2]);
        let test = load_ccp(root, "test", None).unwrap();
        assert_eq!(test.samples.len(), 100);
        assert_eq!(test.samples[0].name, "0904.jpg");
        image::GrayImage::from_raw(3, 2, vec![0, 9, 0, 0, 0, 0]).unwrap().save(root.join("labels/0002.png")).unwrap();
        let err = format!("{:#}", load_ccp(root, "train", Some(2)).unwrap_err());
        assert!(err.contains("holds label 9, but labels.txt lists 0..4"), "{err}");
        assert!(ccp_mapping("0 null\n1 hair\n").is_err(), "a labels.txt without skin is refused");
    }

    #[test]
    fn median_frequency_weights_by_hand() {
        // Image A (4 px): three of class 0, one of class 1. Image B (4 px): four of class 2.
        // freq: c0 = 3/4, c1 = 1/4, c2 = 4/4; median 3/4 -> weights 1, 3, 0.75.
        let sample =
            |labels: [u8; 4]| Sample { name: String::new(), image: Array3::zeros((2, 2, 3)), label: Array2::from_shape_vec((2, 2), labels.to_vec()).unwrap() };
        let split = Split { samples: vec![sample([0, 0, 0, 1]), sample([2, 2, 2, 2])], n_classes: 4, void: Some(11) };
        let w = median_frequency_weights(&split);
        for (got, want) in w.iter().zip([1.0, 3.0, 0.75, 0.0]) {
            assert!((got - want).abs() < 1e-12, "{w:?}");
        }
    }
}

//! Pure pixel work on masks: overlays, boundaries, disagreement and agreement. Every
//! function takes and returns row-major buffers; RGBA buffers are 4 bytes a pixel.

use crate::protocol::Mask;
use skipscope_engine::weights::ClassInfo;

/// The photo with each pixel's class colour blended over it at `opacity` (0: photo only).
/// `photo` and `mask` must be the same size (else the photo alone is returned).
pub fn overlay(photo: &[u8], mask: &Mask, classes: &[ClassInfo], opacity: f64) -> Vec<u8> {
    let mut out = photo.to_vec();
    if photo.len() != mask.classes.len() * 4 {
        return out;
    }
    let a = opacity.clamp(0.0, 1.0) as f32;
    for (px, &c) in out.chunks_exact_mut(4).zip(&mask.classes) {
        let color = classes.get(c as usize).map_or([0, 0, 0], |k| k.color);
        for i in 0..3 {
            px[i] = (px[i] as f32 * (1.0 - a) + color[i] as f32 * a).round() as u8;
        }
    }
    out
}

/// Pixels whose right or lower neighbour has another class.
pub fn boundaries(mask: &Mask) -> Vec<bool> {
    let (h, w, m) = (mask.height, mask.width, &mask.classes);
    let mut out = vec![false; h * w];
    for y in 0..h {
        for x in 0..w {
            let c = m[y * w + x];
            out[y * w + x] = (x + 1 < w && m[y * w + x + 1] != c) || (y + 1 < h && m[(y + 1) * w + x] != c);
        }
    }
    out
}

/// Pixels where not all `masks` agree (all must be the same size; false where sizes differ).
pub fn disagreement(masks: &[&Mask]) -> Vec<bool> {
    let Some(first) = masks.first() else { return Vec::new() };
    let n = first.classes.len();
    if masks.iter().any(|m| m.classes.len() != n) {
        return vec![false; n];
    }
    (0..n).map(|i| masks.iter().any(|m| m.classes[i] != first.classes[i])).collect()
}

/// The fraction of pixels where `a` and `b` agree (0 when sizes differ or empty).
pub fn agreement(a: &Mask, b: &Mask) -> f64 {
    if a.classes.len() != b.classes.len() || a.classes.is_empty() {
        return 0.0;
    }
    a.classes.iter().zip(&b.classes).filter(|(x, y)| x == y).count() as f64 / a.classes.len() as f64
}

/// The dimmed, grey photo with the disagreeing pixels in magenta and each mask's boundary in
/// its colour (later masks drawn over earlier ones).
pub fn disagreement_map(photo: &[u8], masks: &[(&Mask, [u8; 3])]) -> Vec<u8> {
    let mut out: Vec<u8> = photo
        .chunks_exact(4)
        .flat_map(|p| {
            let g = ((p[0] as u32 + p[1] as u32 + p[2] as u32) / 3 / 2 + 40) as u8;
            [g, g, g, 255]
        })
        .collect();
    let only: Vec<&Mask> = masks.iter().map(|(m, _)| *m).collect();
    let differ = disagreement(&only);
    if differ.len() * 4 != out.len() {
        return out;
    }
    for (px, &d) in out.chunks_exact_mut(4).zip(&differ) {
        if d {
            px[..3].copy_from_slice(&[230, 0, 200]);
        }
    }
    for (mask, color) in masks {
        for (px, &b) in out.chunks_exact_mut(4).zip(&boundaries(mask)) {
            if b {
                px[..3].copy_from_slice(color);
            }
        }
    }
    out
}

/// For every pixel, how many steps (to any of the 8 neighbours) lead to the nearest pixel
/// where `targets` is true: a breadth-first distance transform (chessboard distance);
/// `usize::MAX` everywhere when no pixel is a target.
pub fn distance_to(targets: &[bool], height: usize, width: usize) -> Vec<usize> {
    let mut dist = vec![usize::MAX; targets.len()];
    let mut queue = std::collections::VecDeque::new();
    for (i, _) in targets.iter().enumerate().filter(|(_, t)| **t) {
        dist[i] = 0;
        queue.push_back(i);
    }
    while let Some(i) = queue.pop_front() {
        let (y, x) = (i / width, i % width);
        for (dy, dx) in [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] {
            let (ny, nx) = (y as isize + dy, x as isize + dx);
            if ny < 0 || nx < 0 || ny >= height as isize || nx >= width as isize {
                continue;
            }
            let j = ny as usize * width + nx as usize;
            if dist[j] == usize::MAX {
                dist[j] = dist[i] + 1;
                queue.push_back(j);
            }
        }
    }
    dist
}

/// The share of `a`'s boundary pixels ([`boundaries`]) that lie more than `tolerance` pixels
/// ([`distance_to`]) from every boundary pixel of `b`; none when the sizes differ or `a` has
/// no boundary.
pub fn boundary_far_share(a: &Mask, b: &Mask, tolerance: usize) -> Option<f64> {
    if (a.height, a.width) != (b.height, b.width) || a.classes.len() != a.height * a.width || b.classes.len() != a.classes.len() {
        return None;
    }
    let dist = distance_to(&boundaries(b), b.height, b.width);
    let ours: Vec<usize> = boundaries(a).iter().enumerate().filter(|(_, e)| **e).map(|(i, _)| i).collect();
    if ours.is_empty() {
        return None;
    }
    Some(ours.iter().filter(|i| dist[**i] > tolerance).count() as f64 / ours.len() as f64)
}

/// The share of the pixels of `mask` that lie on a class boundary ([`boundaries`]).
pub fn boundary_share(mask: &Mask) -> f64 {
    let b = boundaries(mask);
    b.iter().filter(|e| **e).count() as f64 / b.len().max(1) as f64
}

/// How many pixels each class has.
pub fn class_counts(mask: &Mask, n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &c in &mask.classes {
        if let Some(n) = counts.get_mut(c as usize) {
            *n += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Dataset;

    #[test]
    fn masks_compare_and_draw() {
        let a = Mask { height: 2, width: 2, classes: vec![0, 0, 1, 1] };
        let b = Mask { height: 2, width: 2, classes: vec![0, 1, 1, 1] };
        assert_eq!(agreement(&a, &b), 0.75);
        assert_eq!(disagreement(&[&a, &b]), vec![false, true, false, false]);
        assert_eq!(boundaries(&a), vec![true, true, false, false]);
        assert_eq!(class_counts(&b, 3), vec![1, 3, 0]);
        let photo = vec![100u8; 16];
        let classes = Dataset::Camvid.classes();
        assert_eq!(overlay(&photo, &a, &classes, 0.0), photo);
        assert_eq!(&overlay(&photo, &a, &classes, 1.0)[..3], &classes[0].color);
        // Boundaries over the magenta disagreement over the dimmed grey photo.
        let map = disagreement_map(&photo, &[(&a, [1, 2, 3]), (&b, [4, 5, 6])]);
        assert_eq!(&map[..4], &[4, 5, 6, 255], "b's boundary is drawn over a's");
        assert_eq!(&map[4..8], &[1, 2, 3, 255], "a's boundary over the disagreeing pixel");
        assert_eq!(&map[8..12], &[90, 90, 90, 255], "dimmed grey: 100 / 2 + 40");
        let (one, other) = (Mask { height: 1, width: 1, classes: vec![0] }, Mask { height: 1, width: 1, classes: vec![1] });
        assert_eq!(disagreement_map(&photo[..4], &[(&one, [1, 2, 3]), (&other, [4, 5, 6])]), [230, 0, 200, 255], "magenta where they differ");
        assert_eq!(disagreement_map(&photo[..4], &[(&one, [1, 2, 3]), (&one, [4, 5, 6])]), [90, 90, 90, 255], "grey where they agree");
    }

    #[test]
    fn boundary_distances_count_steps_to_the_nearest_boundary() {
        // A 1 x 8 strip: one target at x = 2.
        let t: Vec<bool> = (0..8).map(|x| x == 2).collect();
        assert_eq!(distance_to(&t, 1, 8), vec![2, 1, 0, 1, 2, 3, 4, 5]);
        assert_eq!(distance_to(&[true, false, false, false], 2, 2), vec![0, 1, 1, 1], "diagonals are one step");
        assert!(distance_to(&[false; 4], 2, 2).iter().all(|d| *d == usize::MAX));
        // Two 1 x 10 masks whose one edge is 5 pixels apart (boundary pixels at x = 1 and x = 6).
        let a = Mask { height: 1, width: 10, classes: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1].to_vec() };
        let b = Mask { height: 1, width: 10, classes: [0, 0, 0, 0, 0, 0, 0, 1, 1, 1].to_vec() };
        assert_eq!(boundary_far_share(&a, &b, 3), Some(1.0));
        assert_eq!(boundary_far_share(&a, &b, 5), Some(0.0));
        assert_eq!(boundary_far_share(&a, &a, 0), Some(0.0));
        assert_eq!(boundary_far_share(&Mask { height: 1, width: 2, classes: vec![0, 0] }, &b, 3), None);
        assert_eq!(boundary_share(&a), 0.1);
    }
}

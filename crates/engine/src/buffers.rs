//! A pool of reusable activation buffers for the inference path.
//!
//! After the first forward pass at a given input size every buffer the pass needs is in
//! the pool, and later passes allocate nothing: `allocations()` stops growing (tested).

use crate::Scalar;
use ndarray::{Array4, Ix4};

#[derive(Debug, Default)]
pub struct BufferPool<T> {
    free: Vec<Vec<T>>,
    free_indices: Vec<Vec<u32>>,
    allocations: usize,
}

impl<T: Scalar> BufferPool<T> {
    pub fn new() -> Self {
        Self { free: Vec::new(), free_indices: Vec::new(), allocations: 0 }
    }

    /// How many times the pool has had to allocate fresh memory.
    pub fn allocations(&self) -> usize {
        self.allocations
    }

    /// An array of `shape`, from the smallest free buffer large enough. Its values are
    /// left over from the buffer's earlier use (zero where the buffer is new or grew):
    /// every caller overwrites the whole array, so no pass is spent zeroing it.
    pub fn take(&mut self, shape: [usize; 4]) -> Array4<T> {
        let len: usize = shape.iter().product();
        let storage = take_best_fit(&mut self.free, len, &mut self.allocations);
        Array4::from_shape_vec(shape, with_len(storage, len, T::zero())).expect("length equals the product of the shape")
    }

    /// An index array of `shape`, its values left over as in [`Self::take`].
    pub fn take_indices(&mut self, shape: [usize; 4]) -> Array4<u32> {
        let len: usize = shape.iter().product();
        let storage = take_best_fit(&mut self.free_indices, len, &mut self.allocations);
        Array4::from_shape_vec(shape, with_len(storage, len, 0)).expect("length equals the product of the shape")
    }

    /// Returns an array's memory to the pool.
    pub fn give(&mut self, array: Array4<T>) {
        self.free.push(into_storage(array));
    }

    pub fn give_indices(&mut self, array: Array4<u32>) {
        self.free_indices.push(into_storage(array));
    }
}

fn into_storage<A>(array: ndarray::Array<A, Ix4>) -> Vec<A> {
    let (storage, _offset) = array.into_raw_vec_and_offset();
    storage
}

/// `v` cut or extended (by `fill`) to `len`: the values it keeps are not touched.
fn with_len<A: Clone>(mut v: Vec<A>, len: usize, fill: A) -> Vec<A> {
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, fill);
    }
    v
}

fn take_best_fit<A>(free: &mut Vec<Vec<A>>, len: usize, allocations: &mut usize) -> Vec<A> {
    let best = free.iter().enumerate().filter(|(_, v)| v.capacity() >= len).min_by_key(|(_, v)| v.capacity()).map(|(i, _)| i);
    match best {
        Some(i) => free.swap_remove(i),
        None => {
            *allocations += 1;
            Vec::with_capacity(len)
        }
    }
}

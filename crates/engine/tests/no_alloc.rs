//! Warm inference allocates no activation buffer: a counting global allocator watches the
//! calling thread while a folded model runs `infer` again at the same input size.
//!
//! What remains is matrixmultiply's packing buffer, which its GEMM allocates on every
//! call: at most one allocation per convolution at this input size (one im2col block each).

use ndarray::Array4;
use skipscope_engine::model::Workspace;
use skipscope_engine::param::Module;
use skipscope_engine::{Model, ModelConfig, Skip, Upsample};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if WATCHING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made by `f` on this thread.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn warm_inference_allocates_only_gemm_packing() {
    for upsample in Upsample::ALL {
        for skip in Skip::ALL {
            let config = ModelConfig { in_channels: 3, n_classes: 5, depth: 3, width: 4, upsample, skip };
            let mut model = Model::<f32>::new(config, 1).unwrap();
            model.fold_batch_norm();
            let x = Array4::from_shape_fn((1, 24, 32, 3), |(_, i, j, c)| ((i + 2 * j + c) % 7) as f32 / 7.0);
            let mut ws = Workspace::new();
            let cold = allocations_during(|| {
                model.infer(x.view(), &mut ws).unwrap();
            });
            assert!(cold > 0, "the first call fills the workspace");
            let warm = allocations_during(|| {
                for _ in 0..3 {
                    model.infer(x.view(), &mut ws).unwrap();
                }
            });
            let mut convolutions = 0;
            model.visit_params("", &mut |name, _| convolutions += name.ends_with(".weight") as usize);
            assert!(warm <= 3 * convolutions, "{}: warm inference allocated {warm} times in 3 calls ({convolutions} convolutions)", config.variant());
            assert!(warm / 3 < cold, "{}: warm {} per call, cold {cold}", config.variant(), warm / 3);
        }
    }
}

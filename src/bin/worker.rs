use gloo_worker::Registrable;
use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, reporting a failed allocation to the page before Rust aborts
/// (`skipscope::worker::report_out_of_memory`).
struct Reporting;

// SAFETY: every call is forwarded to `System` unchanged; only a null result is reported.
unsafe impl GlobalAlloc for Reporting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc(layout), layout.size())
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc_zeroed(layout), layout.size())
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        checked(System.realloc(ptr, layout, new_size), new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

fn checked(ptr: *mut u8, bytes: usize) -> *mut u8 {
    if ptr.is_null() {
        skipscope::worker::report_out_of_memory(bytes);
    }
    ptr
}

#[global_allocator]
static ALLOCATOR: Reporting = Reporting;

fn main() {
    std::panic::set_hook(Box::new(skipscope::worker::report_panic));
    skipscope::worker::EngineWorker::registrar().register();
}

//! Allocations per record of the typed decode vs `serde_json::Value`, on the page
//! `benches/typed_decode.rs` decodes (a counting allocator; kept out of the benchmark).
//!
//! ```sh
//! cargo run -p yida-bench --example decode_allocs
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[path = "../benches/common/typed_decode_data.rs"]
#[allow(dead_code)]
mod data;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(l.size(), Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new, Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (usize, usize) {
    let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
    let v = f();
    let r = (ALLOCS.load(Relaxed) - a, BYTES.load(Relaxed) - b);
    drop(v);
    r
}

fn main() {
    let text = data::page();
    let per = |(n, b): (usize, usize)| (n as f64 / 100.0, b as f64 / 100.0);
    let typed = per(count(|| {
        serde_json::from_str::<Vec<data::Record>>(&text).unwrap()
    }));
    let value = per(count(|| {
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    }));
    println!(
        "allocations per record: derived {:.1} ({:.0} bytes), serde_json::Value {:.1} ({:.0} bytes); size of a derived record {} bytes",
        typed.0,
        typed.1,
        value.0,
        value.1,
        std::mem::size_of::<data::Record>()
    );
}

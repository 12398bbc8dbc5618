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
    // What reading the three JSON-text values of every record costs afterwards (parsed once).
    let decoded: Vec<data::Record> = serde_json::from_str(&text).unwrap();
    let read = per(count(|| {
        for r in &decoded {
            r.f35.get().unwrap();
            r.f36.as_ref().unwrap().get().unwrap();
            r.f37.get().unwrap();
        }
    }));
    let (mut alone, mut and_read) = (u128::MAX, u128::MAX);
    for _ in 0..100 {
        let t = std::time::Instant::now();
        std::hint::black_box(serde_json::from_str::<Vec<data::Record>>(&text).unwrap());
        alone = alone.min(t.elapsed().as_nanos());
        let t = std::time::Instant::now();
        let page: Vec<data::Record> = serde_json::from_str(&text).unwrap();
        for r in &page {
            std::hint::black_box(r.f35.get().unwrap());
            std::hint::black_box(r.f36.as_ref().unwrap().get().unwrap());
            std::hint::black_box(r.f37.get().unwrap());
        }
        drop(page);
        and_read = and_read.min(t.elapsed().as_nanos());
    }
    println!(
        "reading attachments, address and association of every record afterwards: {:.1} allocations per record; page decoded {:.1} us, decoded and those read {:.1} us (fastest of 100, counting allocator)",
        read.0,
        alone as f64 / 1000.0,
        and_read as f64 / 1000.0
    );
    println!(
        "allocations per record: derived {:.1} ({:.0} bytes), serde_json::Value {:.1} ({:.0} bytes); size of a derived record {} bytes",
        typed.0,
        typed.1,
        value.0,
        value.1,
        std::mem::size_of::<data::Record>()
    );
}

//! The README's library example is the crate's doc example (which runs as a doctest).

#[test]
fn readme_example_is_the_doctest() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let section = &readme[readme.find("## Emulator").unwrap()..];
    let start = section.find("```rust,ignore\n").unwrap() + "```rust,ignore\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(
        doc.contains(block),
        "README example differs from src/lib.rs:\n{block}"
    );
}

//! The README's dependency block (section "Library") names every crate its Rust examples use,
//! so copying the block and an example compiles. The examples themselves are compiled as
//! doctests (`ReadmeDoctests` in lib.rs).

use std::collections::BTreeSet;

/// Crates a README section introduces with its own instructions, and the standard library.
const ELSEWHERE: &[&str] = &[
    "std",
    "core",
    "crate",
    "self",
    "super",
    "yida_events",
    "yida_redis",
    "yida_emulator",
];

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The code blocks of `text` whose fence starts with `lang`.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let end_of_fence = after.find('\n').unwrap_or(after.len());
        let fence = &after[..end_of_fence];
        let body_start = (end_of_fence + 1).min(after.len());
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        if fence.starts_with(lang) {
            out.push(&after[body_start..body_start + end]);
        }
        rest = &after[body_start + end + 3..];
    }
    out
}

/// Crate roots an example uses: `use x::…`, `x::y(…)` paths (`x` lower-case).
fn roots(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start_matches('#').trim();
        if line.starts_with("//") {
            continue;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        while let Some(p) = line[i..].find("::") {
            let at = i + p;
            let mut s = at;
            while s > 0 && (bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_') {
                s -= 1;
            }
            let starts_path = s == 0 || !matches!(bytes[s - 1], b':' | b'>' | b'"');
            let word = &line[s..at];
            if starts_path && !word.is_empty() && word.starts_with(|c: char| c.is_ascii_lowercase())
            {
                out.insert(word.to_string());
            }
            i = at + 2;
        }
    }
    out
}

#[test]
fn the_dependency_block_names_every_crate_the_examples_use() {
    let text = readme();
    let library = &text[text.find("## Library").expect("a Library section")..];
    let block = blocks(library, "toml")[0];
    let declared: BTreeSet<String> = block
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with('['))
        .map(|k| k.replace('-', "_"))
        .collect();
    let used: BTreeSet<String> = blocks(&text, "rust").into_iter().flat_map(roots).collect();
    let missing: Vec<&String> = used
        .iter()
        .filter(|u| !declared.contains(*u) && !ELSEWHERE.contains(&u.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's examples use {missing:?}, which its dependency block ({declared:?}) lacks"
    );
    // The check itself sees the crates it must see.
    for name in [
        "yida_api",
        "yida_auth",
        "tokio",
        "serde",
        "serde_json",
        "futures_util",
    ] {
        assert!(
            used.contains(name),
            "{name} not found in the examples: {used:?}"
        );
    }
}

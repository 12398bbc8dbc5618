//! Counts of operations have one home, the spec (read here through `yida_api::operations()`):
//! every count the prose of the repository states ("125 operations", "21 list operations",
//! "全部 125 个接口", "the seed page's 28", "100 of API 1.0") must equal the model's, and a
//! count the model cannot check (how many reference pages `cargo xtask drift` compared) must
//! not be written down at all: a drift run prints it.
//!
//! `BENCHMARKS.md` is a record of measurements (the spec as it was then) and the generator's
//! test fixtures describe their own small spec; both are left out.

use std::path::{Path, PathBuf};

/// What a number in the prose counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Total,
    Paginated,
    Seed,
    Version(&'static str),
    /// A count of drift's, not of the model: must not be written down.
    DriftPages,
}

/// Classifies the number that sits between `before` and `after` (whitespace already
/// collapsed to single spaces), or `None` when it is not a count of operations.
fn classify(before: &str, after: &str) -> Option<Count> {
    let starts = |p: &str| after.starts_with(p);
    if starts(" list operations") || starts(" 个列表接口") {
        Some(Count::Paginated)
    } else if before.ends_with("seed page's ")
        || before.ends_with("种子页面里的 ")
        || starts(" operations of the seed page")
    {
        Some(Count::Seed)
    } else if starts(" of API 1.0") {
        Some(Count::Version("1.0"))
    } else if starts(" of API 2.0") {
        Some(Count::Version("2.0"))
    } else if starts(" with pages") || before.ends_with("文档页比较了 ") {
        Some(Count::DriftPages)
    } else if starts(" operations") || starts(" HTTP operations") || starts(" 个接口") {
        Some(Count::Total)
    } else {
        None
    }
}

/// Every count of operations in `text`: (count kind, the number, a snippet for messages).
fn counts(text: &str) -> Vec<(Count, usize, String)> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    let mut offset = 0;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let digits = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - start);
        let (s, e) = (offset + start, offset + start + digits);
        let before = &text[..s];
        // A number inside a word, a version (`1.0`) or a path is no count.
        let standalone = !before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || "._-/".contains(c));
        if standalone {
            if let Some(kind) = classify(before, &text[e..]) {
                let snippet: String = text[s..].chars().take(40).collect();
                out.push((kind, text[s..e].parse().unwrap_or(usize::MAX), snippet));
            }
        }
        offset = e;
        rest = &text[e..];
    }
    out
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !matches!(name.as_ref(), "target" | ".git" | "node_modules")
                && !path.ends_with("yida-codegen/tests")
            {
                markdown_files(&path, out);
            }
        } else if kind.is_file() && name.ends_with(".md") && name != "BENCHMARKS.md" {
            out.push(path);
        }
    }
}

fn expected(kind: Count) -> usize {
    let ops = yida_api::operations();
    match kind {
        Count::Total => ops.len(),
        Count::Paginated => ops.iter().filter(|o| o.pagination.is_some()).count(),
        Count::Seed => ops.iter().filter(|o| o.seed).count(),
        Count::Version(v) => ops.iter().filter(|o| o.version == v).count(),
        Count::DriftPages => usize::MAX,
    }
}

#[test]
fn the_classifier_reads_both_languages() {
    let found = |t: &str| {
        counts(t)
            .into_iter()
            .map(|(k, n, _)| (k, n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        found("All 125\n operations of API 1.0 and 2.0; ~125 HTTP operations"),
        [(Count::Total, 125), (Count::Total, 125)]
    );
    assert_eq!(
        found("the 21 list operations; (the seed page's 28 marked); 100 of API 1.0"),
        [
            (Count::Paginated, 21),
            (Count::Seed, 28),
            (Count::Version("1.0"), 100)
        ]
    );
    assert_eq!(
        found("共 125 个接口，21 个列表接口，种子页面里的 28 个，与文档页比较了 112 个"),
        [
            (Count::Total, 125),
            (Count::Paginated, 21),
            (Count::Seed, 28),
            (Count::DriftPages, 112)
        ]
    );
    assert_eq!(found("(125 operations compared, 112 with pages)").len(), 2);
    // Versions, names and quantities of something else are no counts of operations.
    assert!(found("Legacy 1.0 operations; v2 operations; 20 calls/s per operation").is_empty());
}

#[test]
fn every_count_of_operations_in_the_docs_is_the_models() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(&root).unwrap_or(file).display();
        for (kind, n, snippet) in counts(&text) {
            checked += 1;
            if kind == Count::DriftPages {
                wrong.push(format!(
                    "{shown}: `{snippet}…`: a count of drift's, not of the spec; say it without the number (a drift run prints it)"
                ));
            } else if n != expected(kind) {
                wrong.push(format!(
                    "{shown}: `{snippet}…`: {n}, but the spec has {} ({kind:?})",
                    expected(kind)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Not vacuous: the READMEs and the guides state the total.
    for name in ["README.md", "README.zh-CN.md", "docs/operations.md"] {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        assert!(
            counts(&text).iter().any(|(k, _, _)| *k == Count::Total),
            "{name} states no count of operations any more: drop it from this check"
        );
    }
    eprintln!(
        "{checked} counts in {} Markdown files agree with the spec",
        files.len()
    );
}

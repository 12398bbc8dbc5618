//! `yida_codegen::yaml` (the spec's own YAML reader) against serde-saphyr, the full YAML
//! deserializer it replaced: every spec file reads as the same JSON value through both.

use serde_json::Value;
use std::path::Path;

/// Equal, where serde-saphyr's YAML 1.1 booleans (`y`, `n`, `yes`, `off`, …) are the text
/// they are in YAML 1.2, as `yaml.rs` reads them (the spec's fields are texts either way).
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::String(s), Value::Bool(b)) => {
            let s = s.to_ascii_lowercase();
            let truthy = ["y", "yes", "on"].contains(&s.as_str());
            let falsy = ["n", "no", "off"].contains(&s.as_str());
            (*b && truthy) || (!*b && falsy)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => ours == theirs,
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn every_spec_file_reads_as_serde_saphyr_reads_it() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut all = Vec::new();
    files(&spec, &mut all);
    assert!(all.len() > 100, "{} spec files", all.len());
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap();
        let ours: Value = yida_codegen::yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let theirs: Value = serde_saphyr::from_str(&text).unwrap();
        if !same(&ours, &theirs) {
            let (a, b) = (ours.to_string(), theirs.to_string());
            let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            panic!(
                "{}: ours …{}… theirs …{}…",
                path.display(),
                &a[at.saturating_sub(80)..(at + 80).min(a.len())],
                &b[at.saturating_sub(80)..(at + 80).min(b.len())]
            );
        }
    }
}

#[test]
fn block_scalars_and_escapes_read_as_serde_saphyr_reads_them() {
    let text = "a: |\n  line one\n  line two\nb: >\n  folded\n  text\nc: \"tab\\t \\u00e9 \\\"q\\\"\"\nd: 'it''s'\ne: -7\nf: 2.50\ng: [1, [2, {h: i}]]\n";
    let ours: Value = yida_codegen::yaml::from_str(text).unwrap();
    let theirs: Value = serde_saphyr::from_str(text).unwrap();
    assert_eq!(ours, theirs);
}

//! Snapshot of the generated code for a small fixture spec, and determinism checks.
//! A changed output fails with a line diff; accept it with
//! `UPDATE_EXPECT=1 cargo test -p yida-codegen --test snapshot` and review `git diff`.

use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini")
}

#[test]
fn mini_spec_renders_as_the_snapshot() {
    let api = yida_codegen::load_dir(&fixture()).unwrap();
    let code = yida_codegen::render(&api).unwrap();
    let md = yida_codegen::render_operations_md(&api);
    expect_test::expect_file!["snapshots/mini.rs"].assert_eq(&code);
    expect_test::expect_file!["snapshots/mini.md"].assert_eq(&md);
    assert!(code.starts_with(yida_codegen::GENERATED_HEADER));
    // Key shapes of the output.
    assert!(code.contains("pub struct GetThingRequest"));
    assert!(code.contains("pub struct GetThingV2Request"));
    assert!(code.contains("pub async fn get_thing_v2"));
    assert!(code.contains("r#type"));
    assert!(code.contains("impl crate::Paginated for GetThingV2Request"));
    assert!(code.contains("crate::__private::Redacted"));
    assert!(
        code.contains("impl std::fmt::Debug for ThingReply"),
        "a model with a secret field gets a redacting Debug"
    );
}

#[test]
fn output_does_not_depend_on_file_order() {
    let text = std::fs::read_to_string(fixture().join("forms/Mini.yaml")).unwrap();
    // Split: operations in one file, models in another.
    let (ops, models) = text.split_at(text.find("models:").unwrap());
    let a_files = vec![
        ("forms/Mini.yaml".to_string(), ops.to_string()),
        ("models.yaml".to_string(), models.to_string()),
    ];
    let mut b_files = a_files.clone();
    b_files.reverse();
    let a = yida_codegen::load_texts(&a_files).unwrap();
    let b = yida_codegen::load_texts(&b_files).unwrap();
    assert_eq!(
        yida_codegen::render(&a).unwrap(),
        yida_codegen::render(&b).unwrap()
    );
}

#[test]
fn the_real_spec_renders_deterministically() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let one = yida_codegen::generate(&dir).unwrap();
    let two = yida_codegen::generate(&dir).unwrap();
    assert_eq!(one, two);
    // The checked-in copy is exactly what renders (the build compiles the same tokens,
    // unformatted: see below).
    let checked_in = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../yida-api/generated/api.rs"),
    )
    .unwrap();
    assert!(
        checked_in == one,
        "yida-api/generated/api.rs is stale: run `cargo xtask gen`"
    );
}

/// `drift:` entries are for `cargo xtask drift` only: the same spec without them renders the
/// same code and reference.
#[test]
fn drift_entries_do_not_reach_generated_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let api = yida_codegen::load_dir(&dir).unwrap();
    let mut bare = api.clone();
    let mut entries = 0;
    for op in &mut bare.operations {
        entries += op.drift.len();
        op.drift.clear();
        for p in &mut op.params {
            entries += p.drift.len();
            p.drift.clear();
        }
    }
    for m in bare.models.values_mut() {
        for f in &mut m.fields {
            entries += f.drift.len();
            f.drift.clear();
        }
    }
    assert!(entries > 0, "the real spec has drift entries");
    assert_eq!(
        yida_codegen::render(&api).unwrap(),
        yida_codegen::render(&bare).unwrap()
    );
    assert_eq!(
        yida_codegen::render_operations_md(&api),
        yida_codegen::render_operations_md(&bare)
    );
}

/// yida-api's build script compiles `render_unformatted`; the checked-in copy is `render`. Both
/// hold the same syntax tree: the unformatted text, parsed and formatted, is the checked-in
/// copy byte for byte.
#[test]
fn the_build_compiles_the_same_code_as_the_checked_in_copy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let api = yida_codegen::load_dir(&dir).unwrap();
    let formatted = yida_codegen::render(&api).unwrap();
    let unformatted = yida_codegen::render_unformatted(&api);
    assert_ne!(formatted, unformatted);
    let body = unformatted
        .strip_prefix(yida_codegen::GENERATED_HEADER)
        .expect("header");
    let reformatted = format!(
        "{}{}",
        yida_codegen::GENERATED_HEADER,
        prettyplease::unparse(&syn::parse_file(body).expect("the build's text parses"))
    );
    assert!(
        reformatted == formatted,
        "the build's text formats differently"
    );
}

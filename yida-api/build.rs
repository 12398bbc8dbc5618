//! Generates the typed API from `../spec` into `OUT_DIR/generated.rs`, and the crate page's
//! index of areas and most used operations into `OUT_DIR/index.md`.
use std::path::Path;

fn main() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    println!("cargo:rerun-if-changed={}", spec.display());
    let api = match yida_codegen::load_dir(&spec) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("{e}");
            panic!("spec/ is invalid: see the messages above");
        }
    };
    // Unformatted: rustc does not need it formatted, and the build then compiles no formatter.
    // `cargo xtask gen` checks in the formatted copy of the same tokens.
    let code = yida_codegen::render_unformatted(&api);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("generated.rs"), code).expect("write generated.rs");
    let index = yida_codegen::render_crate_index_md(&api);
    std::fs::write(out.join("index.md"), index).expect("write index.md");
}

//! Generates the typed API from `../spec` into `OUT_DIR/generated.rs`.
use std::path::Path;

fn main() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    println!("cargo:rerun-if-changed={}", spec.display());
    let code = match yida_codegen::generate(&spec) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            panic!("spec/ is invalid: see the messages above");
        }
    };
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("generated.rs");
    std::fs::write(&out, code).expect("write generated.rs");
}

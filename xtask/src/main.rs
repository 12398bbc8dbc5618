//! `cargo xtask gen [--check]`: regenerate (or check) everything derived from `spec/`:
//! the checked-in copy of the generated code, `docs/operations.md`, and the area features of
//! `yida-api/Cargo.toml`. `cargo xtask drift` and `cargo xtask import` compare the spec with the
//! official SDK and DingTalk's pages (see the `xtask` library).

mod bench;
mod bench_build;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub(crate) use xtask::root;

const FEATURES_BEGIN: &str = "# BEGIN generated areas (cargo xtask gen)\n";
const FEATURES_END: &str = "# END generated areas\n";

/// The `[features]` area block of yida-api/Cargo.toml for these areas.
fn features_block(areas: &[String]) -> String {
    let mut s = String::from(FEATURES_BEGIN);
    let list: Vec<String> = areas.iter().map(|a| format!("\"{a}\"")).collect();
    s.push_str(&format!("all-areas = [{}]\n", list.join(", ")));
    for a in areas {
        s.push_str(&format!("{a} = []\n"));
    }
    s.push_str(FEATURES_END);
    s
}

fn replace_block(text: &str, block: &str) -> Option<String> {
    let start = text.find(FEATURES_BEGIN)?;
    let end = text[start..].find(FEATURES_END)? + start + FEATURES_END.len();
    Some(format!("{}{}{}", &text[..start], block, &text[end..]))
}

/// Writes `contents` to `path`, or in check mode reports whether it is stale.
fn sync(path: &Path, contents: &str, check: bool, stale: &mut Vec<String>) -> std::io::Result<()> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == contents {
        return Ok(());
    }
    let rel = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    if check {
        stale.push(rel);
    } else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, contents)?;
        println!("wrote {rel}");
    }
    Ok(())
}

fn gen(check: bool) -> Result<(), String> {
    let started = Instant::now();
    let root = root();
    let api = yida_codegen::load_dir(&root.join("spec")).map_err(|e| e.to_string())?;
    let code =
        yida_codegen::render(&api).map_err(|e| format!("generated code does not parse: {e}"))?;
    let md = yida_codegen::render_operations_md(&api);
    let mut areas: Vec<String> = api.operations.iter().map(|o| o.area.clone()).collect();
    areas.sort();
    areas.dedup();
    let manifest_path = root.join("yida-api/Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    let manifest = replace_block(&manifest, &features_block(&areas))
        .ok_or("yida-api/Cargo.toml lacks the generated-areas markers")?;
    let mut stale = Vec::new();
    let io = |e: std::io::Error| e.to_string();
    sync(
        &root.join("yida-api/generated/api.rs"),
        &code,
        check,
        &mut stale,
    )
    .map_err(io)?;
    sync(&root.join("docs/operations.md"), &md, check, &mut stale).map_err(io)?;
    sync(&manifest_path, &manifest, check, &mut stale).map_err(io)?;
    if !stale.is_empty() {
        return Err(format!(
            "stale generated files: {}\nrun `cargo xtask gen` and commit the result",
            stale.join(", ")
        ));
    }
    println!(
        "{} operations, {} models, {} areas: {} in {:.0?}",
        api.operations.len(),
        api.models.len(),
        areas.len(),
        if check {
            "generated files are fresh"
        } else {
            "generated files written"
        },
        started.elapsed()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("drift") => return xtask::drift::run(&args[1..]),
        Some("import") => return xtask::import::run(&args[1..]),
        Some("bench-build") => {
            return match bench_build::run(&args[1..]) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {}
    }
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen"] => gen(false),
        ["gen", "--check"] => gen(true),
        ["bench-peers"] => bench::peers(),
        ["bench-sync"] => bench::sync(),
        _ => Err(
            "usage: cargo xtask gen [--check] | cargo xtask bench-peers | cargo xtask bench-sync | \
                  cargo xtask bench-build [--skip-cli] [--only app,doc,cli] | \
                  cargo xtask drift (--sdk <dir> | --docs <dir>) [--json] | \
                  cargo xtask import <Action> [--version V] --sdk <dir>"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

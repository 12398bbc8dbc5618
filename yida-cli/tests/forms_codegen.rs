//! `yida codegen form` and `yida forms check` against the emulator's demo form: the module
//! names fields from labels, and the check names each kind of change with exit 1, bad input
//! with exit 2.

use std::process::{Command, Output, Stdio};
use yida_emulator::{seed::Component, Emulator};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn yida(args: &[&str], env: &[(String, String)]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env = env.to_vec();
    let out: Output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_yida"))
            .args(&args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run yida")
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("yida-forms-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codegen_then_check_names_each_change() {
    let emu = Emulator::start().await.unwrap();
    let env = emu.env();
    let out = tmp("demo.rs");
    let names = tmp("names.txt");
    std::fs::write(&names, "# overrides\nnumberField_amount = total\n").unwrap();
    let r = yida(
        &[
            "codegen",
            "form",
            "FORM-DEMO",
            "--struct",
            "Demo",
            "--names",
            names.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let code = std::fs::read_to_string(&out).unwrap();
    for want in [
        "#[yida(form = \"FORM-DEMO\")]",
        "pub struct Demo {",
        "#[yida(id = \"textField_title\", kind = \"TextField\")]",
        "pub title: Option<String>,",
        "pub total: Option<f64>,",
        "pub owner: Members,",
        "pub items: Table<DemoItemsRow>,",
        "pub struct DemoItemsRow {",
        "pub item: Option<String>,",
    ] {
        assert!(code.contains(want), "{want}\n{code}");
    }
    // Same form, same output (stdout this time).
    let again = yida(
        &[
            "codegen",
            "form",
            "FORM-DEMO",
            "--struct",
            "Demo",
            "--names",
            names.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(again.stdout, code);

    // Unchanged: exit 0.
    let r = yida(
        &["forms", "check", out.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("same as FORM-DEMO"), "{}", r.stdout);

    // Retyped: the module says TextareaField where the form has a TextField.
    let retyped = tmp("retyped.rs");
    std::fs::write(
        &retyped,
        code.replace(
            "id = \"textField_title\", kind = \"TextField\"",
            "id = \"textField_title\", kind = \"TextareaField\"",
        ),
    )
    .unwrap();
    let r = yida(
        &["forms", "check", retyped.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "retyped: textField_title (TextareaField -> TextField)\n"
    );

    // Removed: the module declares a component the form no longer has.
    let removed = tmp("removed.rs");
    std::fs::write(&removed, code.replace("    #[yida(extra)]", "    #[yida(id = \"dateField_gone\", kind = \"DateField\")]\n    pub gone: Option<DateMs>,\n    #[yida(extra)]")).unwrap();
    let r = yida(
        &["forms", "check", removed.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "removed: dateField_gone\n");

    // Added: a colleague adds a component to the live form.
    emu.update_seed(|s| {
        let f = s
            .forms
            .iter_mut()
            .find(|f| f.form_uuid == "FORM-DEMO")
            .unwrap();
        f.components.push(Component {
            field_id: "textareaField_note".into(),
            label: "备注".into(),
            component_name: None,
            parent_id: None,
        });
    })
    .unwrap();
    let r = yida(
        &["forms", "check", out.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "added: textareaField_note (TextareaField, 备注)\n"
    );
    assert!(
        r.stderr.contains("1 added, 0 removed, 0 retyped"),
        "{}",
        r.stderr
    );

    // A saved definitions reply works as the declared side too.
    let defs = tmp("defs.json");
    let r = yida(
        &[
            "call",
            "GetFormComponentDefinitionList",
            "--input",
            r#"{"formUuid":"FORM-DEMO"}"#,
        ],
        &env,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(&defs, &r.stdout).unwrap();
    let r = yida(
        &["forms", "check", defs.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // ... and offline codegen from it gives the new field, named in pinyin.
    let r = yida(
        &[
            "codegen",
            "form",
            "FORM-DEMO",
            "--definitions",
            defs.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert!(
        r.stdout.contains("pub bei_zhu: Option<String>,"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2() {
    let emu = Emulator::start().await.unwrap();
    let env = emu.env();
    let missing = tmp("missing.rs");
    let r = yida(
        &["forms", "check", missing.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let junk = tmp("junk.rs");
    std::fs::write(&junk, "fn main() {}\n").unwrap();
    let r = yida(
        &["forms", "check", junk.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a generated module"), "{}", r.stderr);
    let bad_json = tmp("bad.json");
    std::fs::write(&bad_json, "{\"result\": [{\"label\": \"x\"}]}").unwrap();
    let r = yida(
        &["forms", "check", bad_json.to_str().unwrap(), "FORM-DEMO"],
        &env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("component 0: no `fieldId`"),
        "{}",
        r.stderr
    );
    let r = yida(&["codegen", "form", "APP_NOT_A_FORM"], &env).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let names = tmp("badnames.txt");
    std::fs::write(&names, "textField_nope = x\n").unwrap();
    let r = yida(
        &[
            "codegen",
            "form",
            "FORM-DEMO",
            "--names",
            names.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("textField_nope is not a component"),
        "{}",
        r.stderr
    );
}

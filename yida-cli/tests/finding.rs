//! Finding operations: `yida ops` by names, Chinese titles and areas (not paths), shell
//! completion of actions and parameter names, `yida schema`, NAME=VALUE parameters.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use yida_e2e::{MockServer, Reply};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn yida_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run yida");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn yida(args: &[&str]) -> Run {
    yida_with(args, &[])
}

fn ops_json(filter: Option<&str>) -> Vec<Value> {
    let mut args = vec!["ops", "--json"];
    args.extend(filter);
    let run = yida(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn ids(ops: &[Value]) -> Vec<String> {
    ops.iter()
        .map(|o| {
            format!(
                "{}@{}",
                o["action"].as_str().unwrap(),
                o["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn ops_finds_chinese_titles_and_no_longer_matches_paths() {
    // 审批 (approval) is only in the Chinese titles: before, 0 operations.
    let run = yida(&["ops", "审批"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let (rows, last) = lines.split_at(lines.len() - 1);
    assert_eq!(last[0], format!("{} operations", rows.len()));
    assert!(rows.len() >= 5, "{}", run.stdout);
    assert!(rows.iter().all(|r| r.contains("审批")), "{}", run.stdout);
    let found = ids(&ops_json(Some("审批")));
    for id in [
        "ExecuteTask@1.0",
        "StartInstance@2.0",
        "RestartInstance@2.0",
    ] {
        assert!(found.contains(&id.to_string()), "{id} not in {found:?}");
    }
    // 表单 (form): every operation whose title says so.
    let all = ops_json(None);
    let titled: Vec<String> = ids(&all
        .iter()
        .filter(|o| o["docTitle"].as_str().is_some_and(|t| t.contains("表单")))
        .cloned()
        .collect::<Vec<_>>());
    let found = ids(&ops_json(Some("表单")));
    assert!(titled.len() > 10);
    assert_eq!(found, titled);
    // `form` no longer matches by path: /v2.0/yida/forms/resources/agents is not a form
    // operation.
    let path_only: Vec<String> = ids(&all
        .iter()
        .filter(|o| {
            o["path"].as_str().unwrap().contains("form")
                && ["action", "area", "doc", "docTitle"]
                    .iter()
                    .all(|k| !o[*k].as_str().unwrap_or("").to_lowercase().contains("form"))
        })
        .cloned()
        .collect::<Vec<_>>());
    assert!(
        path_only.contains(&"GetAgentTasks@2.0".to_string()),
        "{path_only:?}"
    );
    let found = ids(&ops_json(Some("form")));
    assert!(found.contains(&"SaveFormData@2.0".to_string()));
    for id in &path_only {
        assert!(!found.contains(id), "{id} matched `form` by its path");
    }
    // Several words: each must match.
    let found = ids(&ops_json(Some("审批 任务")));
    assert!(found.contains(&"ExecuteTask@1.0".to_string()), "{found:?}");
    assert!(
        !found.contains(&"StartInstance@2.0".to_string()),
        "{found:?}"
    );
}

#[test]
fn completion_scripts_list_every_action_and_complete_parameter_names() {
    let actions: Vec<String> = ops_json(None)
        .iter()
        .map(|o| o["action"].as_str().unwrap().to_string())
        .collect();
    for shell in ["bash", "zsh", "fish"] {
        let run = yida(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for a in &actions {
            assert!(run.stdout.contains(a.as_str()), "{shell} script lacks {a}");
        }
        assert!(run.stdout.contains("yida __complete"), "{shell}");
    }
    // What the scripts ask: actions by prefix, then the operation's parameter names.
    let words = |w: &[&str]| {
        let mut args = vec!["__complete"];
        args.extend_from_slice(w);
        yida(&args).stdout
    };
    assert_eq!(
        words(&["call", "SaveForm"]),
        "SaveFormData\nSaveFormRemark\n"
    );
    assert_eq!(
        words(&["call", "SaveFormData", "form"]),
        "formDataJson=\nformUuid=\n"
    );
    // Given names are not offered again (bash splits `name=value` into three words).
    assert_eq!(
        words(&["call", "SaveFormData", "formUuid", "=", "F", "form"]),
        "formDataJson=\n"
    );
    assert_eq!(
        words(&[
            "call",
            "SaveFormData",
            "--input",
            "{}",
            "formDataJson=x",
            "form"
        ]),
        "formUuid=\n"
    );
    assert_eq!(words(&["call", "SaveFormData", "-o", "y"]), "yaml\n");
    assert_eq!(
        words(&["call", "GetFormDataByID", "--api-version", ""]),
        "1.0\n2.0\n"
    );
    assert!(words(&["call", "SaveFormData", "--j"]).contains("--jq\n"));
}

/// The bash script, sourced in bash, completes `yida call SaveFormData form<TAB>`.
#[test]
fn the_bash_script_completes_parameter_names_in_bash() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_yida"));
    let dir = bin.parent().unwrap().to_str().unwrap().to_string();
    let script = r#"
        source <(yida completions bash)
        complete -p yida
        COMP_WORDS=(yida call SaveFormData form); COMP_CWORD=3; COMP_LINE="yida call SaveFormData form"
        _yida_dynamic yida form SaveFormData
        printf '%s\n' "${COMPREPLY[@]}"
        COMP_WORDS=(yida call SearchForm); COMP_CWORD=2
        _yida_dynamic yida SearchForm call
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    if !yida_e2e::require_program("bash", "bash") {
        return;
    }
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["--norc", "-c", script])
        .env_clear()
        .env("PATH", path)
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text,
        "complete -o bashdefault -o default -F _yida_dynamic yida\nformDataJson=\nformUuid=\n\
         SearchFormDataIdList\nSearchFormDataRemovalTableData\n\
         SearchFormDataSecondGeneration\nSearchFormDataSecondGenerationNoTableField\n\
         SearchFormDatas\n"
    );
}

#[test]
fn schema_prints_request_and_reply_for_every_operation() {
    let run = yida(&["schema", "SearchFormDatas"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let t = &run.stdout;
    assert!(
        t.starts_with("SearchFormDatas@2.0  查询表单实例数据\n"),
        "{t}"
    );
    assert!(t.contains("\nRequest (--input"), "{t}");
    let row = |name: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(row("formUuid"), "formUuid string yes body");
    assert_eq!(row("appType"), "appType string context body");
    assert_eq!(row("searchFieldJson"), "searchFieldJson json_text no body");
    assert!(t.contains("\nReply (SearchFormDatasResponse):\n"), "{t}");
    assert!(t.contains("  data  ") || t.contains("  data "), "{t}");
    assert!(
        t.contains("    formInstanceId "),
        "nested model fields indented: {t}"
    );
    // An empty reply says so; an unknown action is corrected.
    let run = yida(&["schema", "TerminateInstance"]);
    assert!(run.stdout.ends_with("\nReply: empty\n"), "{}", run.stdout);
    let run = yida(&["schema", "SaveFromData"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `SaveFormData`"),
        "{}",
        run.stderr
    );
    // --json: JSON Schemas for every operation, request parameters as in the descriptor.
    for o in ops_json(None) {
        let (action, version) = (
            o["action"].as_str().unwrap(),
            o["version"].as_str().unwrap(),
        );
        let run = yida(&["schema", action, "--api-version", version, "--json"]);
        assert_eq!(run.code, 0, "{action}: {}", run.stderr);
        let s: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{action}@{version}: {e}: {}", run.stdout));
        assert_eq!(s["operation"], format!("{action}@{version}"));
        assert_eq!(s["request"]["type"], "object");
        let names: Vec<&str> = o["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let props: Vec<&str> = s["request"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(props, sorted, "{action}@{version}");
        if !s["reply"].is_null() {
            let root = s["reply"]["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/$defs/");
            assert!(
                s["reply"]["$defs"][root]["properties"].is_object(),
                "{action}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn name_value_parameters_are_typed_by_the_spec() {
    let server = MockServer::always(Reply::empty()).await;
    let url = server.url();
    let run = tokio::task::spawn_blocking(move || {
        yida_with(
            &[
                "call",
                "ExecuteTask",
                "processInstanceId=P-1",
                "taskId=7",
                "outResult=AGREE",
                "remark=同意 ok",
                "--input",
                r#"{"remark":"replaced","formDataJson":{"a":1}}"#,
            ],
            &[
                ("YIDA_ENDPOINT", &url),
                ("YIDA_ACCESS_TOKEN", "t"),
                ("YIDA_APP_TYPE", "APP"),
                ("YIDA_SYSTEM_TOKEN", "s"),
                ("YIDA_USER_ID", "u"),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let b = server.requests()[0].json();
    assert_eq!(b["taskId"], json!(7));
    assert_eq!(b["processInstanceId"], "P-1");
    assert_eq!(b["remark"], "同意 ok");
    assert_eq!(b["formDataJson"], r#"{"a":1}"#);
    // Not NAME=VALUE, or a value of the wrong type: named, nothing sent.
    for (arg, needle) in [
        ("taskId", "parameters after the action are NAME=VALUE"),
        ("taskId=seven", "parameter `taskId` must be an integer"),
        ("taskid=7", "did you mean `taskId`?"),
    ] {
        let run = yida_with(
            &["call", "ExecuteTask", arg],
            &[
                ("YIDA_ENDPOINT", "http://127.0.0.1:9"),
                ("YIDA_ACCESS_TOKEN", "t"),
            ],
        );
        assert_eq!(run.code, 2, "{arg}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{arg}: {}", run.stderr);
    }
    assert_eq!(server.count(), 1);
}

/// Runs `script` in `shell` with the binary's folder on PATH; `None` when the shell is missing
/// (the test then passes with a `skipped:` line, unless `CI` is set).
fn in_shell(shell: &str, args: &[&str], script: &str) -> Option<String> {
    if !yida_e2e::require_program(shell, shell) {
        return None;
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_yida"));
    let dir = bin.parent().unwrap().to_str().unwrap().to_string();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = Command::new(shell)
        .args(args)
        .arg(script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("the shell runs");
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_fish_and_zsh_scripts_complete_actions_and_parameter_names() {
    // fish completes a command line itself (`complete -C`).
    let fish = r#"
        yida completions fish | source
        complete -C "yida call SaveFormData form"
        complete -C "yida call SaveForm"
        complete -C "yida schema SearchFormDatas"
    "#;
    if let Some(out) = in_shell("fish", &["--no-config", "-c"], fish) {
        assert_eq!(
            out,
            "formDataJson=\nformUuid=\nSaveFormData\nSaveFormRemark\nSearchFormDatas\n"
        );
    }
    // zsh: the hook, with compadd recording what it is given.
    let zsh = r#"
        compdef() { : }
        compadd() {
            while (( $# )); do
                case $1 in -S) shift 2 ;; -*) shift ;; *) print -r -- "$1"; shift ;; esac
            done
        }
        source <(yida completions zsh)
        words=(yida call SaveFormData form); CURRENT=4; _yida_dynamic
        words=(yida call SaveForm); CURRENT=3; _yida_dynamic
    "#;
    if let Some(out) = in_shell("zsh", &["-f", "-c"], zsh) {
        assert_eq!(
            out,
            "formDataJson=\nformUuid=\nSaveFormData\nSaveFormRemark\n"
        );
    }
}

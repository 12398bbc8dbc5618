//! Output shaping over loopback: `-o json|ndjson|yaml|table`, `--columns`, `--jq`, the
//! confirmation of writes with an empty reply, `--input` as YAML.

use expect_test::expect;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use unicode_width::UnicodeWidthStr;
use yida_e2e::{MockServer, Reply};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `yida` against `server` with only the given environment (plus PATH), feeding `stdin`.
async fn yida(args: &[&str], server: &MockServer, stdin: Option<&str>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let url = server.url();
    let stdin = stdin.map(str::to_string);
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yida"));
        cmd.args(&args)
            .env_clear()
            .env("YIDA_ENDPOINT", url)
            .env("YIDA_ACCESS_TOKEN", "out-token")
            .env("YIDA_APP_TYPE", "APP_OUT")
            .env("YIDA_SYSTEM_TOKEN", "sys-out-secret")
            .env("YIDA_USER_ID", "out-user")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("run yida");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A page as DingTalk sends it: keys in the server's order (not sorted), Chinese text.
const PAGE: &str = r#"{"totalCount":3,"pageNumber":1,"data":[{"formInstanceId":"FINST-1","title":"请假申请","creator":"张三","days":1.5,"formData":{"textField_a":"年假"}},{"formInstanceId":"FINST-22","title":"Leave","creator":"Bob","days":-2,"formData":{"textField_a":"sick"}},{"formInstanceId":"FINST-333","title":"出差审批单","creator":"欧阳娜娜","days":10,"formData":{}}]}"#;

async fn page_server() -> MockServer {
    MockServer::always(Reply::text(200, "application/json", PAGE)).await
}

const SEARCH: [&str; 4] = [
    "call",
    "SearchFormDatas",
    "--input",
    r#"{"formUuid":"FORM-1"}"#,
];

fn search(extra: &[&'static str]) -> Vec<&'static str> {
    SEARCH
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_output_format_prints_the_reply_in_the_servers_key_order() {
    let server = page_server().await;
    // Piped: compact JSON, keys as the server sent them.
    let run = yida(&search(&[]), &server, None).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.stdout, format!("{PAGE}\n"));
    let run = yida(&search(&["-o", "json"]), &server, None).await;
    assert_eq!(run.stdout, format!("{PAGE}\n"));

    let run = yida(&search(&["-o", "ndjson"]), &server, None).await;
    assert_eq!(run.stdout, format!("{PAGE}\n"));
    let run = yida(&search(&["-o", "ndjson", "--jq", ".data[]"]), &server, None).await;
    expect![[r#"
        {"formInstanceId":"FINST-1","title":"请假申请","creator":"张三","days":1.5,"formData":{"textField_a":"年假"}}
        {"formInstanceId":"FINST-22","title":"Leave","creator":"Bob","days":-2,"formData":{"textField_a":"sick"}}
        {"formInstanceId":"FINST-333","title":"出差审批单","creator":"欧阳娜娜","days":10,"formData":{}}
    "#]]
    .assert_eq(&run.stdout);

    let run = yida(&search(&["-o", "yaml"]), &server, None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    expect![[r#"
        totalCount: 3
        pageNumber: 1
        data:
        - formInstanceId: FINST-1
          title: 请假申请
          creator: 张三
          days: 1.5
          formData:
            textField_a: 年假
        - formInstanceId: FINST-22
          title: Leave
          creator: Bob
          days: -2
          formData:
            textField_a: sick
        - formInstanceId: FINST-333
          title: 出差审批单
          creator: 欧阳娜娜
          days: 10
          formData: {}
    "#]]
    .assert_eq(&run.stdout);
    // Several values: one YAML document each.
    let run = yida(
        &search(&["-o", "yaml", "--jq", ".data[] | .formInstanceId"]),
        &server,
        None,
    )
    .await;
    expect![[r#"
        FINST-1
        ---
        FINST-22
        ---
        FINST-333
    "#]]
    .assert_eq(&run.stdout);

    // A table of the page's list: every scalar field, in order; CJK aligned.
    let run = yida(&search(&["-o", "table"]), &server, None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    expect![[r#"
        formInstanceId  title       creator   days
        FINST-1         请假申请    张三      1.5
        FINST-22        Leave       Bob       -2
        FINST-333       出差审批单  欧阳娜娜  10
    "#]]
    .assert_eq(&run.stdout);
    let run = yida(
        &search(&[
            "-o",
            "table",
            "--columns",
            "creator,formData.textField_a,formInstanceId",
        ]),
        &server,
        None,
    )
    .await;
    expect![[r#"
        creator   formData.textField_a  formInstanceId
        张三      年假                  FINST-1
        Bob       sick                  FINST-22
        欧阳娜娜                        FINST-333
    "#]]
    .assert_eq(&run.stdout);
    assert_eq!(server.count(), 8);
}

/// Display columns at which each cell of a table line starts (two or more spaces apart).
fn cell_starts(line: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut col = 0;
    let mut gap = 2;
    for c in line.chars() {
        if c == ' ' {
            gap += 1;
        } else {
            if gap >= 2 {
                starts.push(col);
            }
            gap = 0;
        }
        col += c.to_string().width();
    }
    starts
}

#[tokio::test(flavor = "multi_thread")]
async fn table_columns_line_up_by_display_width_with_cjk_text() {
    let server = page_server().await;
    let run = yida(
        &search(&["-o", "table", "--columns", "title,creator,days"]),
        &server,
        None,
    )
    .await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    let header = cell_starts(lines[0]);
    assert_eq!(header.len(), 3);
    for line in &lines[1..] {
        assert_eq!(cell_starts(line), header, "{}", run.stdout);
    }
    // By bytes or chars the columns would not line up: 请假申请 is 4 chars, 8 columns.
    assert_eq!(header[1], "出差审批单".width() + 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_is_indented_on_a_terminal() {
    let server = page_server().await;
    let cmd = format!(
        "{} call GetFormDataByID --input '{{\"id\":\"FINST-1\"}}'",
        env!("CARGO_BIN_EXE_yida")
    );
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        // `script` runs the command on a pseudo-terminal.
        Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TERM", "xterm")
            .env("YIDA_ENDPOINT", url)
            .env("YIDA_ACCESS_TOKEN", "t")
            .stdin(Stdio::null())
            .output()
            .expect("script(1) runs")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("{\n  \"totalCount\": 3,\n  \"pageNumber\": 1,\n  \"data\": [\n    {\n"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jq_filters_the_reply_and_prints_strings_as_text() {
    let server = page_server().await;
    let run = yida(&search(&["--jq", ".data[].formInstanceId"]), &server, None).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.stdout, "FINST-1\nFINST-22\nFINST-333\n");
    // Numbers and objects stay JSON; -o json keeps strings as JSON strings.
    let run = yida(
        &search(&[
            "--jq",
            ".totalCount, {n: (.data | length), first: .data[0].title}",
        ]),
        &server,
        None,
    )
    .await;
    assert_eq!(run.stdout, "3\n{\"n\":3,\"first\":\"请假申请\"}\n");
    let run = yida(
        &search(&["--jq", ".data[0].title", "-o", "json"]),
        &server,
        None,
    )
    .await;
    assert_eq!(run.stdout, "\"请假申请\"\n");
    // A table of what the filter selects.
    let run = yida(
        &search(&[
            "--jq",
            "[.data[] | {id: .formInstanceId, d: .days}]",
            "-o",
            "table",
        ]),
        &server,
        None,
    )
    .await;
    expect![[r#"
        id         d
        FINST-1    1.5
        FINST-22   -2
        FINST-333  10
    "#]]
    .assert_eq(&run.stdout);
    assert_eq!(server.count(), 4);

    // A bad expression is refused before anything is sent, naming --jq.
    let run = yida(&search(&["--jq", ".data[] |"]), &server, None).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--jq `.data[] |` is not a valid expression"),
        "{}",
        run.stderr
    );
    let run = yida(&search(&["--jq", "nosuchfn(1)"]), &server, None).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("undefined function `nosuchfn/1`"),
        "{}",
        run.stderr
    );
    let run = yida(&search(&["--columns", "a"]), &server, None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--columns needs `-o table`"),
        "{}",
        run.stderr
    );
    assert_eq!(server.count(), 4, "nothing sent for refused options");

    // A filter failing on the reply: exit 3 (sent), the reason on stderr.
    let run = yida(&search(&["--jq", ".totalCount[0]"]), &server, None).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("--jq failed on the reply"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn all_applies_jq_to_each_item_and_collects_a_table() {
    let server = MockServer::start(|r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap_or(1);
        let data: Vec<Value> = if page <= 2 {
            (0..2)
                .map(|i| json!({"formInstanceId": format!("F-{page}-{i}"), "title": "审批"}))
                .collect()
        } else {
            vec![]
        };
        Reply::json(json!({"currentPage": page, "totalCount": 4, "data": data}))
    })
    .await;
    let all = |extra: &[&'static str]| {
        let mut a = vec![
            "call",
            "SearchFormDatas",
            "--input",
            r#"{"formUuid":"FORM-1","pageSize":2}"#,
            "--all",
        ];
        a.extend_from_slice(extra);
        a
    };
    let run = yida(&all(&["--jq", ".formInstanceId"]), &server, None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "F-1-0\nF-1-1\nF-2-0\nF-2-1\n");
    let run = yida(&all(&["-o", "table"]), &server, None).await;
    expect![[r#"
        formInstanceId  title
        F-1-0           审批
        F-1-1           审批
        F-2-0           审批
        F-2-1           审批
    "#]]
    .assert_eq(&run.stdout);
    let run = yida(
        &all(&["-o", "yaml", "--jq", "{id: .formInstanceId}"]),
        &server,
        None,
    )
    .await;
    expect![[r#"
        id: F-1-0
        ---
        id: F-1-1
        ---
        id: F-2-0
        ---
        id: F-2-1
    "#]]
    .assert_eq(&run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_with_an_empty_reply_is_confirmed_on_stderr() {
    let server = MockServer::always(Reply::empty()).await;
    let run = yida(
        &[
            "call",
            "ExecuteTask",
            "--input",
            r#"{"processInstanceId":"P-1","taskId":7,"outResult":"AGREE","remark":"ok"}"#,
        ],
        &server,
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "ok: ExecuteTask@1.0 sent; the reply is empty\n");
    assert_eq!(server.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn input_can_be_yaml_from_a_file_or_stdin() {
    let server = MockServer::always(Reply::json(json!({"result": "FINST-Y"}))).await;
    let dir = std::env::temp_dir().join(format!("yida-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.yaml");
    std::fs::write(
        &file,
        "formUuid: FORM-Y\nformDataJson:\n  textField_a: 请假\n  numberField_b: 3\n",
    )
    .unwrap();
    let at = format!("@{}", file.display());
    let run = yida(
        &["call", "SaveFormData", "--input", &at, "--jq", ".result"],
        &server,
        None,
    )
    .await;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "FINST-Y\n"),
        "{}",
        run.stderr
    );
    let run = yida(
        &["call", "SaveFormData", "--input", "-"],
        &server,
        Some("formUuid: FORM-Y\nformDataJson: {textField_a: 请假, numberField_b: 3}\n"),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for r in server.requests() {
        let b = r.json();
        assert_eq!(b["formUuid"], "FORM-Y");
        let data: Value = serde_json::from_str(b["formDataJson"].as_str().unwrap()).unwrap();
        assert_eq!(data, json!({"textField_a": "请假", "numberField_b": 3}));
    }
    // A YAML file that is not an object, or is not YAML, is named and nothing is sent.
    std::fs::write(&file, "- a\n- b\n").unwrap();
    let run = yida(&["call", "SaveFormData", "--input", &at], &server, None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--input must be one JSON object (or YAML mapping)"),
        "{}",
        run.stderr
    );
    std::fs::write(&file, "a: [b\n").unwrap();
    let run = yida(&["call", "SaveFormData", "--input", &at], &server, None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--input is not valid YAML"),
        "{}",
        run.stderr
    );
    assert_eq!(server.count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

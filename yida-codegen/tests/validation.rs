//! Bad specs fail with messages that name the file, the operation and the problem.

fn errors(files: &[(&str, &str)]) -> String {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    match yida_codegen::load_texts(&files) {
        Ok(_) => panic!("spec was accepted"),
        Err(e) => e.to_string(),
    }
}

const OK_OP: &str = r#"operations:
  - action: GetThing
    version: "1.0"
    method: GET
    path: /v1.0/yida/things/{id}
    area: forms
    doc: Read a thing.
    permission: Yida.Form.Read
    app_kinds: [internal]
    risk: read
    params:
      - { name: id, in: path, type: string, required: true, doc: "Id." }
    response: Thing
models:
  Thing:
    doc: A thing.
    fields:
      - { name: thingId, type: string, doc: "Id." }
"#;

fn with(from: &str, to: &str) -> String {
    assert!(OK_OP.contains(from), "{from}");
    OK_OP.replacen(from, to, 1)
}

#[test]
fn the_base_spec_is_valid() {
    let api = yida_codegen::load_texts(&[("forms/a.yaml".into(), OK_OP.into())]).unwrap();
    assert_eq!(api.operations.len(), 1);
}

#[test]
fn each_mistake_gets_its_message() {
    let cases: Vec<(String, &str)> = vec![
        (with("    risk: read\n", "    risk: read\n    colour: red\n"), "unknown field `colour`"),
        (with("type: string, required: true", "type: strin, required: true"), "unknown type `strin`"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things/{thingId}"), "path placeholder `{thingId}` has no path parameter"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things"), "path parameter `id` has no `{id}` in the path"),
        (with("/v1.0/yida/things/{id}", "/v2.0/yida/things/{id}"), "does not start with /v1.0/"),
        (with("    area: forms\n", "    area: tasks\n"), "area `tasks` does not match its folder `forms`"),
        (with("    doc: Read a thing.\n", "    doc: TODO\n"), "doc still says TODO"),
        (with("action: GetThing", "action: get-thing"), "action must be a PascalCase identifier"),
        (with("    response: Thing\n", "    response: Nothing\n"), "response model `Nothing` is not defined"),
        (with("    risk: read\n", "    risk: read\n    legacy: GetThing@2.0\n"), "legacy replacement `GetThing@2.0` is not another operation"),
        (with("app_kinds: [internal]", "app_kinds: [robots]"), "unknown app kind `robots`"),
        (with("method: GET", "method: PATCH"), "unknown method `PATCH`"),
        (with("    risk: read\n", "    risk: readonly\n"), "unknown risk `readonly` (read, write or irreversible)"),
        (with("    risk: read\n", "    risk: write\n"), "a GET operation has risk `read`, not `write`"),
        (with("method: GET", "method: DELETE"), "a DELETE operation cannot have risk `read`"),
        (with("    risk: read\n", "    read_only: true\n"), "unknown field `read_only`"),
        (with("permission: Yida.Form.Read", "permission: read-all"), "is not of the form Yida.Area.Read"),
        (
            with("      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n",
                 "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n      - { name: formUuid, in: query, type: string, required: false, doc: \"x\" }\n      - { name: form_uuid, in: query, type: string, required: false, doc: \"y\" }\n"),
            "parameters `formUuid` and `form_uuid` both become the Rust name `form_uuid`",
        ),
        (with("name: id, in: path, type: string", "name: 9id, in: path, type: string"), "is not a valid wire name"),
        (with("in: path, type: string, required: true", "in: path, type: \"list<string>\", required: true"), "must be a scalar type"),
        (with("    risk: read\n", "    risk: read\n    drift: [{ source: sdk, fact: colour, says: red, why: \"x\" }]\n"), "drift: unknown fact `colour`"),
        (with("    risk: read\n", "    risk: read\n    drift: [{ source: pages, fact: method, says: POST, why: \"x\" }]\n"), "drift: unknown source `pages` (sdk or docs)"),
        (with("doc: \"Id.\" }\n    response", "doc: \"Id.\", drift: [{ source: docs, fact: required, says: optional }] }\n    response"), "parameter `id`: drift: say why"),
        (with("      - { name: thingId, type: string, doc: \"Id.\" }\n", "      - { name: thingId, type: string, doc: \"Id.\" }\n  Orphan:\n    doc: Nobody uses me.\n    fields: []\n"), "model `Orphan` is not used by any operation"),
    ];
    for (text, expected) in cases {
        let msg = errors(&[("forms/a.yaml", &text)]);
        assert!(msg.contains(expected), "expected {expected:?} in:\n{msg}");
        assert!(msg.contains("spec/forms/a.yaml"), "names the file:\n{msg}");
    }
}

#[test]
fn operation_errors_name_the_operation_and_line() {
    let msg = errors(&[(
        "forms/a.yaml",
        &with("/v1.0/yida/things/{id}", "/v1.0/yida/things"),
    )]);
    assert!(
        msg.contains("spec/forms/a.yaml:2: GetThing@1.0: path parameter `id`"),
        "{msg}"
    );
}

#[test]
fn duplicates_across_files_are_found() {
    let other = OK_OP
        .replace("Thing:\n", "Thing2:\n")
        .replace("response: Thing\n", "response: Thing2\n");
    let msg = errors(&[("forms/a.yaml", OK_OP), ("forms/b.yaml", &other)]);
    assert!(
        msg.contains("duplicate operation (also in spec/forms/a.yaml)"),
        "{msg}"
    );
    let msg = errors(&[
        ("forms/a.yaml", OK_OP),
        (
            "models.yaml",
            "models:\n  Thing:\n    doc: again\n    fields: []\n",
        ),
    ]);
    assert!(
        msg.contains("model `Thing` is also defined in spec/"),
        "{msg}"
    );
}

#[test]
fn yaml_syntax_errors_carry_a_location() {
    let msg = errors(&[("forms/a.yaml", "operations:\n  - action: [unclosed\n")]);
    assert!(msg.contains("spec/forms/a.yaml: invalid YAML"), "{msg}");
    assert!(
        msg.contains("line") || msg.contains(":2:") || msg.contains(" 2"),
        "{msg}"
    );
}

#[test]
fn operations_outside_an_area_folder_are_refused() {
    let msg = errors(&[("a.yaml", OK_OP)]);
    assert!(
        msg.contains("operations must live in an area folder"),
        "{msg}"
    );
}

const TWO_OPS: &str = r#"operations:
  - action: GetThing
    version: "1.0"
    method: GET
    path: /v1.0/yida/things/{id}
    area: forms
    doc: Read a thing.
    permission: null
    app_kinds: [internal]
    risk: read
    params:
      - { name: id, in: path, type: string, required: true, doc: "Id." }
    response: Thing
  - action: PutThing
    version: "1.0"
    method: PUT
    path: /v1.0/yida/things
    area: forms
    doc: Write a thing.
    permission: null
    app_kinds: [internal]
    risk: write
    params:
      - { name: id, in: body, type: string, required: true, doc: "Id." }
      - { name: data, in: body, type: strin, required: true, doc: "Data." }
models:
  Thing:
    doc: A thing.
    fields:
      - { name: thingId, type: string, doc: "Id." }
      - { name: size, type: i6, doc: "Size." }
"#;

#[test]
fn errors_point_at_their_own_operation_parameter_and_field() {
    let msg = errors(&[("forms/a.yaml", TWO_OPS)]);
    // The second operation's parameter, not the first operation's line.
    assert!(
        msg.contains("spec/forms/a.yaml:25: PutThing@1.0: parameter `data`: unknown type `strin`"),
        "{msg}"
    );
    assert!(
        msg.contains("spec/forms/a.yaml:31: model `Thing`, field `size`: unknown type `i6`"),
        "{msg}"
    );
    // An operation-level problem of the second operation points at its `action:` line.
    let msg = errors(&[(
        "forms/a.yaml",
        &TWO_OPS.replace("path: /v1.0/yida/things\n", "path: /v2.0/yida/things\n"),
    )]);
    assert!(
        msg.contains("spec/forms/a.yaml:14: PutThing@1.0: path `/v2.0/yida/things` does not start with /v1.0/"),
        "{msg}"
    );
}

#[test]
fn a_type_nested_100000_deep_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}string{}", "list<".repeat(100_000), ">".repeat(100_000));
    let text = with(
        "type: string, required: true",
        &format!("type: \"{deep}\", required: true"),
    );
    let msg = errors(&[("forms/a.yaml", &text)]);
    assert!(
        msg.contains(
            "spec/forms/a.yaml:12: GetThing@1.0: parameter `id`: type nests deeper than 8 levels"
        ),
        "{}",
        &msg[..msg.len().min(500)]
    );
    assert!(msg.len() < 2_000, "the message stays short");
    // YAML itself nested 100,000 deep.
    let yaml = format!(
        "operations: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let msg = errors(&[("forms/b.yaml", &yaml)]);
    assert!(
        msg.contains("spec/forms/b.yaml: invalid YAML: nested deeper than 32 levels (line 1)"),
        "{msg}"
    );
}

#[test]
fn recursive_models_are_refused() {
    let text = with(
        "      - { name: thingId, type: string, doc: \"Id.\" }\n",
        "      - { name: thingId, type: string, doc: \"Id.\" }\n      - { name: parent, type: Thing, doc: \"Parent.\" }\n",
    );
    let msg = errors(&[("forms/a.yaml", &text)]);
    assert!(
        msg.contains("spec/forms/a.yaml:16: model `Thing` contains itself (Thing → Thing)"),
        "{msg}"
    );
    // Through another model.
    let text = with(
        "      - { name: thingId, type: string, doc: \"Id.\" }\n",
        "      - { name: thingId, type: string, doc: \"Id.\" }\n      - { name: other, type: Other, doc: \"O.\" }\n  Other:\n    doc: Other.\n    fields:\n      - { name: back, type: Thing, doc: \"Back.\" }\n",
    );
    let msg = errors(&[("forms/a.yaml", &text)]);
    assert!(
        msg.contains("model `Thing` contains itself (Thing → Other → Thing)"),
        "{msg}"
    );
    // In a list it has a finite size and is fine.
    let text = with(
        "      - { name: thingId, type: string, doc: \"Id.\" }\n",
        "      - { name: thingId, type: string, doc: \"Id.\" }\n      - { name: children, type: \"list<Thing>\", doc: \"Children.\" }\n",
    );
    yida_codegen::load_texts(&[("forms/a.yaml".into(), text)]).unwrap();
}

#[test]
fn texts_paths_and_placeholders_that_cannot_work_are_refused() {
    let cases: Vec<(String, &str)> = vec![
        (
            with("    risk: read\n", "    risk: read\n    note: \"a\\rb\"\n"),
            "spec/forms/a.yaml:2: GetThing@1.0: note holds the control character '\\r'",
        ),
        (
            with("doc: \"Id.\" }\n    response", "doc: \"Id.\", note: \"x\\ry\" }\n    response"),
            "spec/forms/a.yaml:12: GetThing@1.0: parameter `id`: note holds the control character '\\r'",
        ),
        (
            with("/v1.0/yida/things/{id}", "/v1.0/yida/things/{id}{id}"),
            "has the placeholder `{id}` twice",
        ),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things/{id}?x=1"), "holds '?'"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things/{id}#top"), "holds '#'"),
        (with("path: /v1.0/yida/things/{id}", "path: '/v1.0/yida/\"things/{id}'"), "holds '\"'"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/../{id}"), "has an empty, `.` or `..` segment"),
    ];
    for (text, expected) in cases {
        let msg = errors(&[("forms/a.yaml", &text)]);
        assert!(msg.contains(expected), "expected {expected:?} in:\n{msg}");
        assert!(
            msg.contains("spec/forms/a.yaml:"),
            "names file and line:\n{msg}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_named_yaml_is_refused_without_blocking() {
    let dir = std::env::temp_dir().join(format!("yida-spec-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("forms")).unwrap();
    std::fs::write(dir.join("forms/a.yaml"), OK_OP).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("forms/pipe.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(
            yida_codegen::load_dir(&d)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
    });
    // Generous bound: a blocking open would never return.
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the loader returned instead of blocking on the FIFO");
    let msg = result.expect_err("a FIFO is not a spec file");
    assert!(
        msg.contains("spec/forms/pipe.yaml: not a regular file"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fixed_values_become_checked_enums() {
    let text = with(
        "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n",
        "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n      - { name: mode, in: query, type: string, required: false, values: [FAST, FAST], doc: \"M.\" }\n",
    );
    let msg = errors(&[("forms/a.yaml", &text)]);
    assert!(msg.contains("spec/forms/a.yaml:13: GetThing@1.0: parameter `mode`: two values become the variant `Fast`"), "{msg}");
    let text = with(
        "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n",
        "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n      - { name: n, in: query, type: i64, required: false, values: [A], doc: \"N.\" }\n",
    );
    let msg = errors(&[("forms/a.yaml", &text)]);
    assert!(msg.contains("`values` needs a non-secret string"), "{msg}");
}

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
    read_only: true
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
        (with("    read_only: true\n", "    read_only: true\n    colour: red\n"), "unknown field `colour`"),
        (with("type: string, required: true", "type: strin, required: true"), "unknown type `strin`"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things/{thingId}"), "path placeholder `{thingId}` has no path parameter"),
        (with("/v1.0/yida/things/{id}", "/v1.0/yida/things"), "path parameter `id` has no `{id}` in the path"),
        (with("/v1.0/yida/things/{id}", "/v2.0/yida/things/{id}"), "does not start with /v1.0/"),
        (with("    area: forms\n", "    area: tasks\n"), "area `tasks` does not match its folder `forms`"),
        (with("    doc: Read a thing.\n", "    doc: TODO\n"), "doc still says TODO"),
        (with("action: GetThing", "action: get-thing"), "action must be a PascalCase identifier"),
        (with("    response: Thing\n", "    response: Nothing\n"), "response model `Nothing` is not defined"),
        (with("    read_only: true\n", "    read_only: true\n    legacy: GetThing@2.0\n"), "legacy replacement `GetThing@2.0` is not another operation"),
        (with("app_kinds: [internal]", "app_kinds: [robots]"), "unknown app kind `robots`"),
        (with("method: GET", "method: PATCH"), "unknown method `PATCH`"),
        (with("permission: Yida.Form.Read", "permission: read-all"), "is not of the form Yida.Area.Read"),
        (
            with("      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n",
                 "      - { name: id, in: path, type: string, required: true, doc: \"Id.\" }\n      - { name: formUuid, in: query, type: string, required: false, doc: \"x\" }\n      - { name: form_uuid, in: query, type: string, required: false, doc: \"y\" }\n"),
            "parameters `formUuid` and `form_uuid` both become the Rust name `form_uuid`",
        ),
        (with("name: id, in: path, type: string", "name: 9id, in: path, type: string"), "is not a valid wire name"),
        (with("in: path, type: string, required: true", "in: path, type: \"list<string>\", required: true"), "must be a scalar type"),
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

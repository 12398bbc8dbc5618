//! The tool surface: a handful of curated tools for the everyday reads, `describe_operation`
//! and `call_operation` over every operation, and — only when a person allowed writes —
//! `write_operation` (and `apply_rehearsal` in rehearsal mode).

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{json, Map, Value};

/// A curated read tool: one operation, a name an agent recognises, the operation's own input
/// schema (from the spec).
pub(crate) struct Curated {
    pub name: &'static str,
    pub action: &'static str,
    pub version: &'static str,
    pub description: &'static str,
}

/// The curated reads. Each is one operation; `describe_form` and `instance_status` combine
/// two and are built by hand below.
pub(crate) const CURATED: &[Curated] = &[
    Curated {
        name: "list_forms",
        action: "GetFormListInApp",
        version: "1.0",
        description: "List the forms of the Yida app (plain forms `receipt` and workflow forms `process`), a page at a time. Start here to find a form's formUuid.",
    },
    Curated {
        name: "search_records",
        action: "SearchFormDatas",
        version: "2.0",
        description: "Search a form's records (form instances) by field values, submitter and dates, a page at a time. Field filters go in searchFieldJson by component id (describe_form lists the ids and each component's search format).",
    },
    Curated {
        name: "get_record",
        action: "GetFormDataByID",
        version: "2.0",
        description: "Read one record (form instance) by its id: its field values in Yida's read format, its creator and times.",
    },
    Curated {
        name: "running_tasks",
        action: "GetRunningTasks",
        version: "1.0",
        description: "The approval tasks still open on a process instance (who must act, the taskId to act with).",
    },
];

pub(crate) const DESCRIBE_FORM: &str = "describe_form";
pub(crate) const INSTANCE_STATUS: &str = "instance_status";
pub(crate) const DESCRIBE_OPERATION: &str = "describe_operation";
pub(crate) const CALL_OPERATION: &str = "call_operation";
pub(crate) const WRITE_OPERATION: &str = "write_operation";
pub(crate) const APPLY_REHEARSAL: &str = "apply_rehearsal";

/// A tool's input schema: an object of these properties (no others), `required` among them.
fn schema(properties: Value, required: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), properties);
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    m.insert("additionalProperties".into(), json!(false));
    m
}

/// The `appType` property of the tools that read one form or instance.
fn app_type() -> Value {
    json!({"type": "string", "description": "The Yida app's code (`APP_...`). Optional here: the server fills it from its app context."})
}

/// The properties of a tool that names an operation: `action`, `version`, and one more
/// (`query` or `input`).
fn operation_properties(action: &str, (name, property): (&str, Value)) -> Value {
    let mut m = Map::new();
    m.insert(
        "action".into(),
        json!({"type": "string", "description": action}),
    );
    m.insert(
        "version".into(),
        json!({"type": "string", "enum": ["1.0", "2.0"], "description": "API version; the newest when left out."}),
    );
    m.insert(name.into(), property);
    Value::Object(m)
}

/// The `input` property of the tools that call an operation.
fn input(description: &str) -> (&'static str, Value) {
    (
        "input",
        json!({"type": "object", "description": description}),
    )
}

fn read_only() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false)
}

/// The annotations of the tools that write.
fn writes_annotations(irreversible: bool) -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(irreversible)
        .idempotent(false)
        .open_world(false)
}

/// Every tool the server lists for this scope.
pub(crate) fn list(writes: bool, irreversible: bool, rehearse: bool) -> Vec<Tool> {
    let mut tools = Vec::new();
    for c in CURATED {
        let meta = crate::ops::find(c.action, Some(c.version)).expect("curated operations exist");
        tools.push(
            Tool::new(c.name, c.description, crate::ops::input_schema(meta))
                .with_title(c.name.replace('_', " "))
                .annotate(read_only()),
        );
    }
    tools.push(
        Tool::new(
            DESCRIBE_FORM,
            "Describe a form: each component's id, label and kind, and the value formats Yida uses for it when writing, reading and searching, and whether it is read-only. Read this before writing or searching a form: guessed component ids write empty values.",
            schema(
                json!({
                    "formUuid": {"type": "string", "description": "The form's code (`FORM-...`), from list_forms."},
                    "appType": app_type()
                }),
                &["formUuid"],
            ),
        )
        .annotate(read_only()),
    );
    tools.push(
        Tool::new(
            INSTANCE_STATUS,
            "The status of a process instance (RUNNING, TERMINATED, COMPLETED, ERROR), its approval result, and its operation records (who did what, when).",
            schema(
                json!({
                    "processInstanceId": {"type": "string", "description": "The process instance's id."},
                    "appType": app_type()
                }),
                &["processInstanceId"],
            ),
        )
        .annotate(read_only()),
    );
    tools.push(
        Tool::new(
            DESCRIBE_OPERATION,
            "Find and describe any of the Yida open API operations: without `action`, a list of operations (filtered by `query`: action name, Chinese or English title, area) with their risk class; with `action`, its method, path, risk class (read, write, irreversible) and input schema for call_operation / write_operation.",
            schema(
                operation_properties(
                    "DingTalk action name, e.g. SearchFormDatas.",
                    ("query", json!({"type": "string", "description": "Without `action`: words to look for in names, titles and areas (e.g. 审批, form)."})),
                ),
                &[],
            ),
        )
        .annotate(read_only()),
    );
    tools.push(
        Tool::new(
            CALL_OPERATION,
            "Call any READ operation (risk class `read`, see describe_operation) with its parameters by their wire names in `input`. Writes are refused here: use write_operation when the server allows writes.",
            schema(
                operation_properties(
                    "DingTalk action name.",
                    input("The parameters by wire name (describe_operation gives the schema). Secret parameters such as systemToken are held by the server."),
                ),
                &["action"],
            ),
        )
        .annotate(read_only()),
    );
    if writes {
        let what = if irreversible {
            "Write operations, including irreversible ones (start, terminate, delete, execute and redirect steps), are allowed inside the server's scope."
        } else {
            "Write operations are allowed inside the server's scope; irreversible ones (start, terminate, delete, execute and redirect steps) are refused."
        };
        let rehearsal = if rehearse {
            " The server rehearses: a write runs against a local copy (a Yida emulator with the form's definitions and the records you have read), returns the resulting record, the number of calls it would cost and a rehearsalId; nothing reaches DingTalk until apply_rehearsal."
        } else {
            ""
        };
        tools.push(
            Tool::new(
                WRITE_OPERATION,
                format!("Call a write operation (risk class `write` or `irreversible`) with its parameters by wire name in `input`. {what} Read the record and describe_form first.{rehearsal}"),
                schema(
                    operation_properties(
                        "DingTalk action name.",
                        input("The parameters by wire name (describe_operation gives the schema)."),
                    ),
                    &["action", "input"],
                ),
            )
            .annotate(writes_annotations(irreversible)),
        );
        if rehearse {
            tools.push(
                Tool::new(
                    APPLY_REHEARSAL,
                    "Send a rehearsed write to DingTalk for real: the exact operation and input of the rehearsal named by rehearsalId, checked against the scope again. Ask the person first.",
                    schema(
                        json!({"rehearsalId": {"type": "string", "description": "The id write_operation returned."}}),
                        &["rehearsalId"],
                    ),
                )
                .annotate(writes_annotations(irreversible)),
            );
        }
    }
    tools
}

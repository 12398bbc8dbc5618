//! `cargo xtask drift` and `cargo xtask import` on the hand-written fixtures of
//! `tests/fixtures/` (a made-up widgets API in the SDK's and the pages' shapes): the clean
//! state, each kind of drift on doctored copies, `drift:` entries honoured, and an import that validates
//! once its docs are written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use xtask::drift::{self, Kind};
use xtask::{docpages, import, pysdk, source};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fresh copy of a fixture folder in a temporary directory.
fn copy(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xtask-drift-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    copy_dir(&fixtures().join(name), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn xtask(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sdk_module(sdk: &Path) -> PathBuf {
    sdk.join("alibabacloud_dingtalk/yida_1_0")
}

fn spec_path() -> String {
    fixtures().join("spec").display().to_string()
}

#[test]
fn fixture_sdk_is_read_as_written() {
    let sdk = pysdk::load(&fixtures().join("sdk")).unwrap();
    assert_eq!(sdk.version.as_deref(), Some("9.9.9"));
    assert_eq!(
        sdk.operations.len(),
        2,
        "the async twin is not a second operation"
    );
    let get = sdk.operation("GetWidget", "1.0").unwrap();
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, "/v1.0/yida/widgets/{widgetId}");
    assert_eq!(get.summary.as_deref(), Some("Fixture: read one widget"));
    let names: Vec<(&str, &str, bool)> = get
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.location.as_str(), p.required))
        .collect();
    assert_eq!(
        names,
        [
            ("widgetId", "path", true),
            ("language", "query", true),
            ("systemToken", "query", true)
        ]
    );
    let body = &sdk.models[get.response.as_ref().unwrap()];
    let fields: Vec<(&str, String)> = body
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty.python()))
        .collect();
    assert_eq!(
        fields,
        [
            ("attributes", "Dict[str, Any]".to_string()),
            ("createdAtGMT", "int".to_string()),
            ("name", "str".to_string()),
            ("parts", "List[GetWidgetResponseBodyParts]".to_string()),
        ]
    );
    let save = sdk.operation("SaveWidget", "1.0").unwrap();
    assert_eq!(save.response, None, "SaveWidget's reply has no body");
    let tags = save.params.iter().find(|p| p.name == "tags").unwrap();
    assert_eq!(
        (tags.location.as_str(), tags.ty.python(), tags.required),
        ("body", "List[str]".to_string(), false)
    );
}

#[test]
fn clean_fixture_exits_zero_and_reports_the_noted_difference() {
    let (code, out, err) = xtask(&[
        "drift",
        "--sdk",
        &fixtures().join("sdk").display().to_string(),
        "--spec",
        &spec_path(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("GetWidget@1.0"), "{out}");
    assert!(out.contains("noted"), "{out}");
    assert!(!out.contains("DRIFT"), "{out}");
    assert!(
        out.contains(
            "2 operations compared; 1 difference(s): 0 unexplained, 1 explained by a drift entry"
        ),
        "{out}"
    );
}

#[test]
fn doctored_sdk_reports_each_change_and_exits_one() {
    let sdk = copy("sdk");
    let m = sdk_module(&sdk);
    // An operation removed.
    let client = std::fs::read_to_string(m.join("client.py")).unwrap();
    let start = client.find("    # BEGIN SaveWidget").unwrap();
    let end = client.find("    # END SaveWidget").unwrap();
    std::fs::write(
        m.join("client.py"),
        format!("{}{}", &client[..start], &client[end..]),
    )
    .unwrap();
    // A parameter renamed on the wire.
    edit(
        &m.join("client.py"),
        "query['systemToken']",
        "query['systemKey']",
    );
    // A required flag flipped (the spec's drift entry says the SDK requires it).
    edit(
        &m.join("models.py"),
        "        # This parameter is required.\n        self.language = language",
        "        self.language = language",
    );
    // A reply field's type changed and one added.
    edit(
        &m.join("models.py"),
        "        height: int = None,",
        "        height: str = None,",
    );
    edit(
        &m.join("models.py"),
        "        if m.get('name') is not None:\n            self.name = m.get('name')",
        "        if m.get('title') is not None:\n            self.name = m.get('title')",
    );

    let (code, out, err) = xtask(&[
        "drift",
        "--sdk",
        &sdk.display().to_string(),
        "--spec",
        &spec_path(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let api = drift::load_spec(&fixtures().join("spec")).unwrap();
    let report = drift::compare(&api.api, &source::from_sdk(&pysdk::load(&sdk).unwrap()));
    let got: Vec<(String, String, Kind, bool)> = report
        .differences
        .iter()
        .map(|d| {
            (
                d.operation.clone(),
                d.subject.clone(),
                d.kind,
                d.why.is_some(),
            )
        })
        .collect();
    let want = |op: &str, subject: &str, kind: Kind| {
        assert!(
            got.iter()
                .any(|g| g.0 == op && g.1 == subject && g.2 == kind && !g.3),
            "missing unexplained {op} {subject} {kind:?} in {got:#?}"
        );
        assert!(out.contains(subject), "table lacks {subject}:\n{out}");
    };
    want("SaveWidget@1.0", "operation", Kind::Removed);
    want("GetWidget@1.0", "param systemToken", Kind::Removed);
    want("GetWidget@1.0", "param systemKey", Kind::Added);
    // The entry says the SDK requires it; now the SDK says optional and the spec agrees,
    // so the difference is gone rather than hidden.
    assert!(!got.iter().any(|g| g.1 == "param language"), "{got:#?}");
    // ...and the entry that explained it is reported as explaining nothing.
    let stale: Vec<&str> = report.stale.iter().map(|s| s.entry.as_str()).collect();
    assert_eq!(stale, ["sdk required of param language, says required"]);
    assert!(out.contains("1 drift entry explains nothing now"), "{out}");
    want("GetWidget@1.0", "reply parts[].size.height", Kind::Type);
    want("GetWidget@1.0", "reply name", Kind::Removed);
    want("GetWidget@1.0", "reply title", Kind::Added);
    assert_eq!(report.unexplained(), 6, "{got:#?}");
    std::fs::remove_dir_all(sdk).unwrap();
}

#[test]
fn a_required_flag_flipped_against_the_entry_is_drift() {
    // The SDK stops requiring `systemToken` (no entry) and `language`, while the spec requires
    // `language` and its entry still says the SDK requires it.
    let sdk = copy("sdk");
    let models = sdk_module(&sdk).join("models.py");
    for attr in ["system_token", "language"] {
        edit(
            &models,
            &format!("        # This parameter is required.\n        self.{attr} = {attr}"),
            &format!("        self.{attr} = {attr}"),
        );
    }
    let spec = copy("spec");
    edit(
        &spec.join("widgets/GetWidget.yaml"),
        "name: language, in: query, type: string, required: false",
        "name: language, in: query, type: string, required: true",
    );
    let api = drift::load_spec(&spec).unwrap();
    let report = drift::compare(&api.api, &source::from_sdk(&pysdk::load(&sdk).unwrap()));
    let flags: Vec<(&str, bool)> = report
        .differences
        .iter()
        .filter(|d| d.kind == Kind::Required)
        .map(|d| (d.subject.as_str(), d.why.is_some()))
        .collect();
    // Neither is explained: the entry's `says` is what the SDK no longer says.
    assert_eq!(
        flags,
        [("param language", false), ("param systemToken", false)],
        "{report:#?}"
    );
    std::fs::remove_dir_all(sdk).unwrap();
    std::fs::remove_dir_all(spec).unwrap();
}

#[test]
fn removing_the_drift_entry_turns_the_difference_into_drift() {
    let spec = copy("spec");
    edit(
        &spec.join("widgets/GetWidget.yaml"),
        ", drift: [{ source: sdk, fact: required, says: required }]",
        "",
    );
    let (code, out, _) = xtask(&[
        "drift",
        "--sdk",
        &fixtures().join("sdk").display().to_string(),
        "--spec",
        &spec.display().to_string(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DRIFT   param language: required"), "{out}");
    std::fs::remove_dir_all(spec).unwrap();
}

#[test]
fn json_output_is_machine_readable() {
    let (code, out, err) = xtask(&[
        "drift",
        "--sdk",
        &fixtures().join("sdk").display().to_string(),
        "--spec",
        &spec_path(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"], "sdk");
    assert_eq!(v["compared"], 2);
    let d = &v["differences"][0];
    assert_eq!(d["operation"], "GetWidget@1.0");
    assert_eq!(d["subject"], "param language");
    assert_eq!(d["kind"], "required");
    assert_eq!(d["spec"], "optional");
    assert_eq!(d["source"], "required");
    assert_eq!(d["why"], "docs: optional; official SDK: required");
}

#[test]
fn pages_in_both_layouts_are_read() {
    let pages = docpages::load(&fixtures().join("pages")).unwrap();
    assert_eq!(pages.len(), 2);
    let get = &pages[0];
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/v1.0/yida/widgets/{widgetId}")
    );
    assert_eq!(get.permission.as_deref(), Some("Yida.Widget.Read"));
    assert_eq!(get.app_kinds, ["internal", "third_party_enterprise"]);
    assert_eq!(
        get.params.len(),
        3,
        "the header table is not a parameter: {:?}",
        get.params
    );
    let save = &pages[1];
    assert_eq!(
        (save.method.as_str(), save.path.as_str()),
        ("POST", "/v1.0/yida/widgets")
    );
    assert_eq!(save.permission, None);
    assert_eq!(save.app_kinds, ["internal"]);
    let p: Vec<(&str, &str, &str, bool)> = save
        .params
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.location.as_str(),
                p.ty.as_str(),
                p.required,
            )
        })
        .collect();
    assert_eq!(
        p,
        [
            ("dryRun", "query", "Boolean", false),
            ("appType", "body", "String", true),
            ("tags", "body", "Array of String", false),
            ("weight", "body", "Long", false)
        ]
    );
}

#[test]
fn doctored_pages_report_each_change() {
    let (code, out, _) = xtask(&[
        "drift",
        "--docs",
        &fixtures().join("pages").display().to_string(),
        "--spec",
        &spec_path(),
    ]);
    assert_eq!(code, 0, "{out}");
    let pages = copy("pages");
    let get = pages.join("0001-get-widget.md");
    edit(&get, "| HTTP Method | GET |", "| HTTP Method | POST |");
    edit(
        &get,
        "| systemToken | String | 是 |",
        "| systemToken | String | 否 |",
    );
    edit(&get, "| language | String | 否 |", "| lang | String | 否 |");
    edit(
        &get,
        "permission-Yida.Widget.Read-",
        "permission-Yida.Widget.Write-",
    );
    edit(&get, "　appType-第三方企业应用", "");
    let save = pages.join("0002-save-widget.md");
    edit(&save, "| weight | Long | 否 |", "| weight | String | 否 |");
    // A page for an operation the spec lacks.
    std::fs::write(
        pages.join("0003-drop-widget.md"),
        "---\ntitle: \"Drop a widget\"\n---\n\n| **基本信息** | |\n| --- | --- |\n| HTTP URL | https://x/v1.0/yida/widgets/{widgetId} |\n| HTTP Method | DELETE |\n",
    )
    .unwrap();
    let (code, out, err) = xtask(&[
        "drift",
        "--docs",
        &pages.display().to_string(),
        "--spec",
        &spec_path(),
        "--json",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diffs = v["differences"].as_array().unwrap();
    let has = |op: &str, subject: &str, kind: &str| {
        assert!(
            diffs.iter().any(|d| d["operation"] == op
                && d["subject"] == subject
                && d["kind"] == kind
                && d["why"].is_null()),
            "missing {op} {subject} {kind} in {out}"
        );
    };
    has("GetWidget@1.0", "method", "method");
    has("GetWidget@1.0", "param systemToken", "required");
    has("GetWidget@1.0", "param language", "removed");
    has("GetWidget@1.0", "param lang", "added");
    has("GetWidget@1.0", "permission", "permission");
    has("GetWidget@1.0", "app_kinds", "app_kinds");
    has("SaveWidget@1.0", "param weight", "type");
    has("Drop a widget", "operation", "added");
    std::fs::remove_dir_all(pages).unwrap();
}

#[test]
fn import_brings_back_a_removed_operation_with_only_docs_to_write() {
    let spec = copy("spec");
    let original = std::fs::read_to_string(spec.join("widgets/GetWidget.yaml")).unwrap();
    std::fs::remove_file(spec.join("widgets/GetWidget.yaml")).unwrap();
    let sdk = fixtures().join("sdk").display().to_string();
    let spec_s = spec.display().to_string();
    let (code, out, _) = xtask(&["drift", "--sdk", &sdk, "--spec", &spec_s]);
    assert_eq!(code, 1);
    assert!(
        out.contains("GetWidget@1.0") && out.contains("operation: added"),
        "{out}"
    );

    // No sibling version: the area must be named.
    let (code, _, err) = xtask(&["import", "GetWidget", "--sdk", &sdk, "--spec", &spec_s]);
    assert_eq!(code, 2);
    assert!(err.contains("--area"), "{err}");
    let (code, out, err) = xtask(&[
        "import",
        "GetWidget",
        "--sdk",
        &sdk,
        "--spec",
        &spec_s,
        "--area",
        "widgets",
        "--docs",
        &fixtures().join("pages").display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("spec/widgets/GetWidget.yaml"), "{out}");
    let written = std::fs::read_to_string(spec.join("widgets/GetWidget.yaml")).unwrap();
    // Wire facts filled, from the SDK; permission and kinds from the page.
    for line in [
        "method: GET",
        "path: /v1.0/yida/widgets/{widgetId}",
        "permission: Yida.Widget.Read",
        "app_kinds: [internal, third_party_enterprise]",
        "risk: read",
        "doc_url: https://example.invalid/get-widget",
        "doc_title: \"Get a widget (fixture)\"",
        "{ name: widgetId, in: path, type: string, required: true,",
        "{ name: language, in: query, type: string, required: true,",
        "{ name: systemToken, in: query, type: string, required: true, doc: \"TODO: describe systemToken\", secret: true }",
        "response: GetWidgetResponse",
        "{ name: parts, type: \"list<GetWidgetParts>\",",
        "GetWidgetPartsSize:",
        "{ name: height, type: i64,",
        "{ name: attributes, type: json,",
    ] {
        assert!(written.contains(line), "{line:?} not in:\n{written}");
    }
    // Validation rejects it until every doc is written...
    let err = yida_codegen::load_dir(&spec).unwrap_err().to_string();
    let problems: Vec<&str> = err.lines().skip(1).collect();
    let todo = problems
        .iter()
        .filter(|l| l.contains("doc still says TODO"))
        .count();
    assert_eq!(todo, 15, "{err}");
    // The only other complaints follow from the operation being rejected: its models are then
    // unused.
    assert!(
        problems.iter().all(
            |l| l.contains("doc still says TODO") || l.contains("is not used by any operation")
        ),
        "only the docs are missing:\n{err}"
    );
    // ...and accepts it once they are; the spec then matches the SDK again, apart from the
    // difference the removed file's drift entry used to explain.
    std::fs::write(
        spec.join("widgets/GetWidget.yaml"),
        import::fill_markers(&written, "Written by a person."),
    )
    .unwrap();
    yida_codegen::load_dir(&spec).unwrap();
    let (code, out, _) = xtask(&["drift", "--sdk", &sdk, "--spec", &spec_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 difference(s)"), "{out}");
    assert!(!original.is_empty());
    // Importing it again is refused.
    let (code, _, err) = xtask(&["import", "GetWidget", "--sdk", &sdk, "--spec", &spec_s]);
    assert_eq!(code, 2);
    assert!(
        err.contains("already in spec/widgets/GetWidget.yaml"),
        "{err}"
    );
    std::fs::remove_dir_all(spec).unwrap();
}

#[test]
fn import_adds_a_version_to_the_actions_existing_file() {
    let spec = copy("spec");
    let sdk = copy("sdk");
    // The SDK gains a v2.0 of SaveWidget (same shape, version 2.0).
    let m = sdk.join("alibabacloud_dingtalk/yida_2_0");
    std::fs::create_dir_all(&m).unwrap();
    let v1 = sdk_module(&sdk);
    let client = std::fs::read_to_string(v1.join("client.py")).unwrap();
    let start = client.find("    # BEGIN SaveWidget").unwrap();
    let end = client.find("    # END SaveWidget").unwrap();
    let body = client[start..end]
        .replace("version='yida_1.0'", "version='yida_2.0'")
        .replace("f'/v1.0/yida/widgets'", "f'/v2.0/yida/widgets'");
    std::fs::write(
        m.join("client.py"),
        format!("class Client(OpenApiClient):\n{body}"),
    )
    .unwrap();
    std::fs::copy(v1.join("models.py"), m.join("models.py")).unwrap();
    let (code, out, err) = xtask(&[
        "import",
        "SaveWidget",
        "--sdk",
        &sdk.display().to_string(),
        "--spec",
        &spec.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(spec.join("widgets/SaveWidget.yaml")).unwrap();
    assert_eq!(text.matches("- action: SaveWidget").count(), 2, "{text}");
    assert!(
        text.contains("version: \"2.0\"") && text.contains("path: /v2.0/yida/widgets"),
        "{text}"
    );
    assert!(text.contains("risk: write  # TODO"), "{text}");
    std::fs::write(
        spec.join("widgets/SaveWidget.yaml"),
        import::fill_markers(&text, "Written by a person."),
    )
    .unwrap();
    let api = yida_codegen::load_dir(&spec).unwrap();
    assert!(api
        .operations
        .iter()
        .any(|o| o.action == "SaveWidget" && o.version == "2.0"));
    std::fs::remove_dir_all(spec).unwrap();
    std::fs::remove_dir_all(sdk).unwrap();
}

#[test]
fn bad_arguments_are_named() {
    let (code, out, _) = xtask(&["drift", "--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("usage: cargo xtask drift"), "{out}");
    let (code, _, err) = xtask(&["drift"]);
    assert_eq!(code, 2);
    assert!(err.contains("--sdk or --docs"), "{err}");
    let (code, _, err) = xtask(&["drift", "--sdk", "/nonexistent-xtask-sdk"]);
    assert_eq!(code, 2);
    assert!(err.contains("--sdk /nonexistent-xtask-sdk"), "{err}");
    let (code, _, err) = xtask(&[
        "drift",
        "--sdk",
        &fixtures().join("pages").display().to_string(),
        "--spec",
        &spec_path(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no yida_<major>_<minor> module"), "{err}");
    let (code, _, err) = xtask(&[
        "import",
        "NoSuchAction",
        "--sdk",
        &fixtures().join("sdk").display().to_string(),
        "--spec",
        &spec_path(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("the SDK has no operation `NoSuchAction`"),
        "{err}"
    );
}

#[test]
fn import_reuses_shared_models_and_repeated_shapes() {
    // WidgetSize moves to spec/models.yaml (shared); the SDK gains GetGadget@2.0 whose reply has
    // two classes shaped like WidgetSize and two identically shaped owner classes.
    let spec = copy("spec");
    let get = spec.join("widgets/GetWidget.yaml");
    let text = std::fs::read_to_string(&get).unwrap();
    let at = text.find("  WidgetSize:").unwrap();
    std::fs::write(&get, &text[..at]).unwrap();
    std::fs::write(
        spec.join("models.yaml"),
        format!("models:\n{}", &text[at..]),
    )
    .unwrap();
    yida_codegen::load_dir(&spec).unwrap();

    let sdk = copy("sdk");
    let m = sdk.join("alibabacloud_dingtalk/yida_2_0");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("client.py"),
        "class Client(OpenApiClient):\n    def get_gadget_with_options(\n        self,\n        request: g_models.GetGadgetRequest,\n        headers: g_models.GetGadgetHeaders,\n        runtime: util_models.RuntimeOptions,\n    ) -> g_models.GetGadgetResponse:\n        query = {}\n        if not UtilClient.is_unset(request.gadget_id):\n            query['gadgetId'] = request.gadget_id\n        params = open_api_models.Params(\n            action='GetGadget',\n            version='yida_2.0',\n            pathname=f'/v2.0/yida/gadgets',\n            method='GET',\n        )\n",
    )
    .unwrap();
    let class = |name: &str, fields: &[(&str, &str, &str)]| {
        let mut c = format!("class {name}(TeaModel):\n    def __init__(\n        self,\n");
        for (_, py, ty) in fields {
            c.push_str(&format!("        {py}: {ty} = None,\n"));
        }
        c.push_str("    ):\n");
        for (_, py, _) in fields {
            c.push_str(&format!("        self.{py} = {py}\n"));
        }
        c.push_str("\n    def from_map(self, m: dict = None):\n");
        for (wire, py, _) in fields {
            c.push_str(&format!(
                "        if m.get('{wire}') is not None:\n            self.{py} = m.get('{wire}')\n"
            ));
        }
        c.push_str("        return self\n\n\n");
        c
    };
    let size = [("height", "height", "int"), ("width", "width", "int")];
    let mut models = String::new();
    models.push_str(&class(
        "GetGadgetRequest",
        &[("gadgetId", "gadget_id", "str")],
    ));
    models.push_str(&class("GetGadgetResponseBodyOwnerBox", &size));
    models.push_str(&class("GetGadgetResponseBodyMakerBox", &size));
    models.push_str(&class(
        "GetGadgetResponseBodyOwner",
        &[
            ("box", "box", "GetGadgetResponseBodyOwnerBox"),
            ("nick", "nick", "str"),
        ],
    ));
    models.push_str(&class(
        "GetGadgetResponseBodyMaker",
        &[
            ("box", "box", "GetGadgetResponseBodyMakerBox"),
            ("nick", "nick", "str"),
        ],
    ));
    models.push_str(&class(
        "GetGadgetResponseBody",
        &[
            ("maker", "maker", "GetGadgetResponseBodyMaker"),
            ("owner", "owner", "GetGadgetResponseBodyOwner"),
        ],
    ));
    models.push_str(&class(
        "GetGadgetResponse",
        &[("body", "body", "GetGadgetResponseBody")],
    ));
    std::fs::write(m.join("models.py"), models).unwrap();

    let (code, out, err) = xtask(&[
        "import",
        "GetGadget",
        "--sdk",
        &sdk.display().to_string(),
        "--spec",
        &spec.display().to_string(),
        "--area",
        "widgets",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let written = std::fs::read_to_string(spec.join("widgets/GetGadget.yaml")).unwrap();
    assert!(
        written.contains("{ name: box, type: WidgetSize,"),
        "{written}"
    );
    assert!(
        written.contains("{ name: maker, type: GetGadgetV2Maker,"),
        "{written}"
    );
    assert!(
        written.contains("{ name: owner, type: GetGadgetV2Maker,"),
        "{written}"
    );
    assert_eq!(written.matches("    fields:").count(), 2, "{written}");
    std::fs::write(
        spec.join("widgets/GetGadget.yaml"),
        import::fill_markers(&written, "Written by a person."),
    )
    .unwrap();
    yida_codegen::load_dir(&spec).unwrap();
    let (code, out, _) = xtask(&[
        "drift",
        "--sdk",
        &sdk.display().to_string(),
        "--spec",
        &spec.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(spec).unwrap();
    std::fs::remove_dir_all(sdk).unwrap();
}

#[test]
fn method_path_and_location_changes_are_drift() {
    let sdk = copy("sdk");
    let client = sdk_module(&sdk).join("client.py");
    edit(
        &client,
        "            method='GET',\n            auth_type",
        "            method='PUT',\n            auth_type",
    );
    edit(
        &client,
        "pathname=f'/v1.0/yida/widgets/{widget_id}',\n            method='PUT'",
        "pathname=f'/v1.0/yida/gadgets/{widget_id}',\n            method='PUT'",
    );
    edit(
        &client,
        "query['dryRun'] = request.dry_run",
        "body['dryRun'] = request.dry_run",
    );
    let api = drift::load_spec(&fixtures().join("spec")).unwrap();
    let report = drift::compare(&api.api, &source::from_sdk(&pysdk::load(&sdk).unwrap()));
    let got: Vec<(&str, &str, Kind, &str, &str)> = report
        .differences
        .iter()
        .filter(|d| d.why.is_none())
        .map(|d| {
            (
                d.operation.as_str(),
                d.subject.as_str(),
                d.kind,
                d.spec.as_str(),
                d.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("GetWidget@1.0", "method", Kind::Method, "GET", "PUT"),
            (
                "GetWidget@1.0",
                "path",
                Kind::Path,
                "/v1.0/yida/widgets/{widgetId}",
                "/v1.0/yida/gadgets/{widgetId}"
            ),
            (
                "SaveWidget@1.0",
                "param dryRun",
                Kind::Location,
                "query",
                "body"
            ),
        ]
    );
    std::fs::remove_dir_all(sdk).unwrap();
}

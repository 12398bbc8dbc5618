//! The MCP server: lists the tools of its scope and runs them through one `yida_api::Client`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Map, Value};
use yida_api::{Client, OperationMeta};

use crate::ops::{self, Risk};
use crate::rehearse::Rehearsal;
use crate::tools::{self, CURATED};
use crate::Scope;

/// How the server was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// What writes may do.
    pub scope: Scope,
    /// Writes run against a local emulator first; `apply_rehearsal` sends them for real.
    pub rehearse: bool,
    /// The app (`APP_…`) the client's context fills in, when it has one: the scope check
    /// uses it when an input names no app.
    pub app_type: Option<String>,
}

/// Records the agent has read, kept (bounded) for rehearsals.
const READ_CACHE: usize = 500;

/// The Yida MCP server. Cheap to clone (one per HTTP session shares the client and state).
#[derive(Clone)]
pub struct YidaMcp {
    client: Client,
    opts: Arc<Options>,
    state: Arc<State>,
}

struct State {
    /// Records read by the agent, by instance id: (formUuid, formData as read).
    read: Mutex<HashMap<String, (String, Value)>>,
    rehearsal: tokio::sync::Mutex<Option<Rehearsal>>,
}

impl YidaMcp {
    /// A server calling Yida through `client`, within `opts`.
    ///
    /// The scope is checked here: writes need at least one app.
    pub fn new(client: Client, opts: Options) -> Result<YidaMcp, String> {
        opts.scope.validate()?;
        if opts.rehearse && !opts.scope.allow_writes {
            return Err("--rehearse rehearses writes: it needs --allow-writes and a scope".into());
        }
        Ok(YidaMcp {
            client,
            opts: Arc::new(opts),
            state: Arc::new(State {
                read: Mutex::new(HashMap::new()),
                rehearsal: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The tools this server lists (for its scope).
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        let s = &self.opts.scope;
        tools::list(s.allow_writes, s.allow_irreversible, self.opts.rehearse)
    }

    async fn run(&self, name: &str, args: Map<String, Value>) -> Result<Value, ToolError> {
        if let Some(c) = CURATED.iter().find(|c| c.name == name) {
            let meta = ops::find(c.action, Some(c.version)).map_err(ToolError::Input)?;
            let input = self.agent_input(meta, Value::Object(args))?;
            let form = input
                .get("formUuid")
                .and_then(Value::as_str)
                .map(str::to_string);
            let reply = self.read(meta, input).await?;
            self.remember(form.as_deref(), &reply);
            return Ok(reply);
        }
        match name {
            tools::DESCRIBE_FORM => self.describe_form(args).await,
            tools::INSTANCE_STATUS => self.instance_status(args).await,
            tools::DESCRIBE_OPERATION => describe_operation(args),
            tools::CALL_OPERATION => {
                let (meta, input) = self.op_and_input(&args)?;
                if ops::risk(meta) != Risk::Read {
                    return Err(ToolError::Refused(format!(
                        "{} is a {} operation: call_operation only reads{}",
                        meta.action,
                        ops::risk_name(ops::risk(meta)),
                        if self.opts.scope.allow_writes {
                            "; use write_operation"
                        } else {
                            " (writes are off: the server was started without --allow-writes)"
                        }
                    )));
                }
                let form = input
                    .get("formUuid")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let reply = self.read(meta, input).await?;
                self.remember(form.as_deref(), &reply);
                Ok(reply)
            }
            tools::WRITE_OPERATION if self.opts.scope.allow_writes => {
                let (meta, input) = self.op_and_input(&args)?;
                self.write(meta, input).await
            }
            tools::APPLY_REHEARSAL if self.opts.rehearse => self.apply(args).await,
            _ => Err(ToolError::Unknown),
        }
    }

    /// `action` + `version` + `input` of call_operation / write_operation.
    fn op_and_input(
        &self,
        args: &Map<String, Value>,
    ) -> Result<(&'static OperationMeta, Value), ToolError> {
        let action = args
            .get("action")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::Input("`action` (a string) is required".into()))?;
        let version = match args.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::String(v)) => Some(v.as_str()),
            Some(_) => {
                return Err(ToolError::Input(
                    "`version` must be \"1.0\" or \"2.0\"".into(),
                ))
            }
        };
        let meta = ops::find(action, version).map_err(ToolError::Input)?;
        let input = args.get("input").cloned().unwrap_or(json!({}));
        Ok((meta, self.agent_input(meta, input)?))
    }

    /// The agent's input, checked: an object, no secret parameters (the server holds them).
    fn agent_input(&self, meta: &OperationMeta, input: Value) -> Result<Value, ToolError> {
        let Value::Object(map) = input else {
            return Err(ToolError::Input(
                "`input` must be a JSON object of parameters".into(),
            ));
        };
        if let Some(secret) = ops::secret_params(meta).find(|s| map.contains_key(*s)) {
            return Err(ToolError::Input(format!(
                "`{secret}` is a secret the server holds: leave it out of the input"
            )));
        }
        Ok(Value::Object(map))
    }

    async fn read(&self, meta: &'static OperationMeta, input: Value) -> Result<Value, ToolError> {
        debug_assert_eq!(ops::risk(meta), Risk::Read);
        ops::call(&self.client, meta, input)
            .await
            .map_err(ToolError::Api)
    }

    /// Keeps the records a read returned (for rehearsals), bounded.
    fn remember(&self, form_hint: Option<&str>, reply: &Value) {
        if !self.opts.rehearse {
            return;
        }
        let mut found = Vec::new();
        collect_records(reply, &mut found);
        let Ok(mut read) = self.state.read.lock() else {
            return;
        };
        for (id, form, data) in found {
            if read.len() >= READ_CACHE && !read.contains_key(&id) {
                break;
            }
            if let Some(form) = form.or_else(|| form_hint.map(str::to_string)) {
                read.insert(id, (form, data));
            }
        }
    }

    async fn describe_form(&self, args: Map<String, Value>) -> Result<Value, ToolError> {
        let meta =
            ops::find("GetFormComponentDefinitionList", Some("1.0")).map_err(ToolError::Input)?;
        let input = self.agent_input(meta, Value::Object(args.clone()))?;
        let reply = self.read(meta, input).await?;
        let form_uuid = args.get("formUuid").cloned().unwrap_or(Value::Null);
        Ok(json!({
            "formUuid": form_uuid,
            "components": crate::forms::describe(&reply),
        }))
    }

    async fn instance_status(&self, args: Map<String, Value>) -> Result<Value, ToolError> {
        let id = args
            .get("processInstanceId")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::Input("`processInstanceId` (a string) is required".into()))?
            .to_string();
        let mut base = Map::new();
        if let Some(app) = args.get("appType") {
            base.insert("appType".into(), app.clone());
        }
        let get = ops::find("GetInstanceById", Some("2.0")).map_err(ToolError::Input)?;
        let mut input = base.clone();
        input.insert("id".into(), Value::String(id.clone()));
        let instance = self.read(get, Value::Object(input)).await?;
        let records = ops::find("GetOperationRecords", Some("1.0")).map_err(ToolError::Input)?;
        let mut input = base;
        input.insert("processInstanceId".into(), Value::String(id));
        let history = self.read(records, Value::Object(input)).await?;
        Ok(json!({ "instance": instance, "operationRecords": history }))
    }

    async fn write(&self, meta: &'static OperationMeta, input: Value) -> Result<Value, ToolError> {
        let risk = ops::risk(meta);
        if risk == Risk::Read {
            return Err(ToolError::Refused(format!(
                "{} only reads: use call_operation",
                meta.action
            )));
        }
        self.opts.scope.permits(risk).map_err(ToolError::Refused)?;
        let lookups = self.check_scope(&input).await?;
        if self.opts.rehearse {
            let mut slot = self.state.rehearsal.lock().await;
            if slot.is_none() {
                *slot = Some(
                    Rehearsal::start(self.opts.app_type.clone())
                        .await
                        .map_err(ToolError::Internal)?,
                );
            }
            let rehearsal = slot.as_mut().expect("started above");
            let known: Vec<(String, String, Value)> = match self.state.read.lock() {
                Ok(read) => read
                    .iter()
                    .map(|(id, (f, d))| (id.clone(), f.clone(), d.clone()))
                    .collect(),
                Err(_) => Vec::new(),
            };
            let outcome = rehearsal
                .run(&self.client, meta, input, &known)
                .await
                .map_err(ToolError::Internal)?;
            return Ok(json!({
                "rehearsed": true,
                "sentToDingTalk": false,
                "rehearsalId": outcome.id,
                "reply": outcome.reply,
                "record": outcome.record,
                "callsToApply": 1 + lookups,
                "next": "apply_rehearsal with this rehearsalId sends it for real (ask the person first)",
            }));
        }
        let reply = ops::call(&self.client, meta, input)
            .await
            .map_err(ToolError::Api)?;
        Ok(json!({ "reply": reply, "calls": 1 + lookups }))
    }

    async fn apply(&self, args: Map<String, Value>) -> Result<Value, ToolError> {
        let id = args
            .get("rehearsalId")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::Input("`rehearsalId` (a string) is required".into()))?;
        let (meta, input) = {
            let slot = self.state.rehearsal.lock().await;
            slot.as_ref()
                .and_then(|r| r.take_planned(id))
                .ok_or_else(|| {
                    ToolError::Input(format!("no rehearsal {id} (or it was applied already)"))
                })?
        };
        // The scope is checked again: the records may have moved since the rehearsal.
        self.opts
            .scope
            .permits(ops::risk(meta))
            .map_err(ToolError::Refused)?;
        let lookups = self.check_scope(&input).await?;
        let reply = ops::call(&self.client, meta, input)
            .await
            .map_err(ToolError::Api)?;
        Ok(json!({ "applied": true, "reply": reply, "calls": 1 + lookups }))
    }

    /// Checks that a write stays inside the scope; returns the number of read calls it took to
    /// find out which form a record belongs to.
    async fn check_scope(&self, input: &Value) -> Result<u32, ToolError> {
        let app = input
            .get("appType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| self.opts.app_type.clone());
        let mut lookups = 0;
        let mut form = input
            .get("formUuid")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !self.opts.scope.forms.is_empty() {
            // A write that names a record: its form is the record's, whatever the input says.
            let by_record = if let Some(id) = first_str(input, &["formInstanceId", "formInstId"]) {
                lookups += 1;
                Some(self.form_of_record(&id, app.as_deref()).await?)
            } else if let Some(id) = first_str(input, &["processInstanceId", "procInstanceId"]) {
                lookups += 1;
                Some(self.form_of_instance(&id, app.as_deref()).await?)
            } else {
                None
            };
            if let Some(found) = by_record {
                match (&form, found) {
                    (Some(given), Some(found)) if *given != found => {
                        return Err(ToolError::Refused(format!(
                            "the record belongs to form {found}, not {given}"
                        )))
                    }
                    (_, Some(found)) => form = Some(found),
                    (_, None) => {
                        return Err(ToolError::Refused(
                            "cannot tell which form the record belongs to (its reply names none); the scope has --form".into(),
                        ))
                    }
                }
            }
        }
        self.opts
            .scope
            .check_target(app.as_deref(), form.as_deref())
            .map_err(ToolError::Refused)?;
        Ok(lookups)
    }

    async fn form_of_record(
        &self,
        id: &str,
        app: Option<&str>,
    ) -> Result<Option<String>, ToolError> {
        if let Ok(read) = self.state.read.lock() {
            if let Some((form, _)) = read.get(id) {
                return Ok(Some(form.clone()));
            }
        }
        let meta = ops::find("GetFormDataByID", Some("2.0")).map_err(ToolError::Input)?;
        let mut input = json!({ "id": id });
        if let Some(app) = app {
            input["appType"] = Value::String(app.into());
        }
        let reply = self.read(meta, input).await?;
        Ok(reply
            .get("formUuid")
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    async fn form_of_instance(
        &self,
        id: &str,
        app: Option<&str>,
    ) -> Result<Option<String>, ToolError> {
        let meta = ops::find("GetInstanceById", Some("2.0")).map_err(ToolError::Input)?;
        let mut input = json!({ "id": id });
        if let Some(app) = app {
            input["appType"] = Value::String(app.into());
        }
        let reply = self.read(meta, input).await?;
        Ok(reply
            .get("formUuid")
            .and_then(Value::as_str)
            .map(str::to_string))
    }
}

fn first_str(input: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| input.get(*n).and_then(Value::as_str))
        .map(str::to_string)
}

/// Records in a reply: objects with a `formInstanceId` (or `formInstId`) and `formData`.
fn collect_records(v: &Value, out: &mut Vec<(String, Option<String>, Value)>) {
    match v {
        Value::Object(m) => {
            let id = m
                .get("formInstanceId")
                .or_else(|| m.get("formInstId"))
                .and_then(Value::as_str);
            if let (Some(id), Some(data)) = (id, m.get("formData")) {
                let form = m
                    .get("formUuid")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.push((id.to_string(), form, data.clone()));
                return;
            }
            for v in m.values() {
                collect_records(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_records(v, out)),
        _ => {}
    }
}

/// `describe_operation`: a filtered list, or one operation in full.
fn describe_operation(args: Map<String, Value>) -> Result<Value, ToolError> {
    if let Some(action) = args.get("action").and_then(Value::as_str) {
        let version = args.get("version").and_then(Value::as_str);
        let meta = ops::find(action, version).map_err(ToolError::Input)?;
        return Ok(json!({
            "action": meta.action,
            "version": meta.version,
            "title": meta.doc_title,
            "description": meta.doc,
            "method": meta.method.as_str(),
            "path": meta.path,
            "area": meta.area,
            "risk": ops::risk_name(ops::risk(meta)),
            "docUrl": meta.doc_url,
            "inputSchema": Value::Object(ops::input_schema(meta)),
        }));
    }
    let query = args
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let ops: Vec<Value> = yida_api::operations()
        .into_iter()
        .filter(|m| {
            query.is_empty()
                || m.action.to_lowercase().contains(&query)
                || m.doc.to_lowercase().contains(&query)
                || m.doc_title
                    .is_some_and(|t| t.to_lowercase().contains(&query))
                || m.area.contains(&query)
        })
        .map(|m| {
            json!({
                "action": m.action,
                "version": m.version,
                "title": m.doc_title,
                "description": m.doc,
                "risk": ops::risk_name(ops::risk(m)),
            })
        })
        .collect();
    Ok(json!({ "count": ops.len(), "operations": ops }))
}

/// Why a tool call did not run (or failed), as the agent reads it.
enum ToolError {
    Input(String),
    Refused(String),
    Api(yida_api::Error),
    Internal(String),
    Unknown,
}

impl ServerHandler for YidaMcp {
    fn get_info(&self) -> ServerConfig {
        let s = &self.opts.scope;
        let mode = if !s.allow_writes {
            "Reads only: writes are off.".to_string()
        } else {
            format!(
                "Writes allowed for {}{}{}{}.",
                s.apps.join(", "),
                if s.forms.is_empty() {
                    String::new()
                } else {
                    format!(" (forms {})", s.forms.join(", "))
                },
                if s.allow_irreversible {
                    "; irreversible steps allowed"
                } else {
                    "; irreversible steps refused"
                },
                if self.opts.rehearse {
                    "; writes are rehearsed first"
                } else {
                    ""
                },
            )
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("yida", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "Yida (宜搭) forms and approvals through DingTalk's open API. {mode} Find a form with list_forms, read its components with describe_form before searching or writing (component ids are opaque; guessed ids write empty values), read a record before changing it."
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.unwrap_or_default();
        let result = match self.run(&request.name, args).await {
            Ok(value) => CallToolResult::structured(match value {
                Value::Object(_) => value,
                other => json!({ "result": other }),
            }),
            Err(ToolError::Unknown) => {
                return Err(McpError::invalid_params(
                    format!(
                        "no tool `{}` on this server",
                        crate::sanitize(&request.name)
                    ),
                    None,
                ))
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.message())]),
        };
        Ok(result.into())
    }
}

impl ToolError {
    fn message(&self) -> String {
        match self {
            ToolError::Input(m) => format!("bad input: {m}; nothing was sent"),
            ToolError::Refused(m) => format!("refused: {m}; nothing was sent"),
            // The client's errors never carry secrets (its own tests prove it).
            ToolError::Api(e) => format!("Yida error: {e}"),
            ToolError::Internal(m) => format!("internal error: {m}"),
            ToolError::Unknown => "no such tool".into(),
        }
    }
}

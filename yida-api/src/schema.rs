//! JSON Schema (draft 2020-12) of an operation's input and reply, and secret reply fields
//! redacted — derived from the typed model ([`OperationMeta`], [`ParamType`], [`ModelMeta`]),
//! never from text. The one schema builder: the CLI (`yida schema`) and the MCP server print
//! what it returns.
//!
//! Models are described once each under `$defs` and named by `$ref` (`#/$defs/<Model>`), so a
//! model that contains itself, or one used by many fields, costs one description.

use serde_json::{json, Map, Value};

use crate::{ModelMeta, OperationMeta, ParamType};

/// How deep a reply value is walked for secret fields (models may contain themselves).
const MAX_REDACT_DEPTH: usize = 32;

/// The models a schema names, each once, in the order first met.
#[derive(Default)]
struct Defs(Vec<&'static ModelMeta>);

impl Defs {
    /// `{"$ref": "#/$defs/<name>"}`, noting the model for `$defs`.
    fn reference(&mut self, m: &'static ModelMeta) -> Value {
        if !self.0.iter().any(|d| d.name == m.name) {
            self.0.push(m);
        }
        json!({ "$ref": format!("#/$defs/{}", m.name) })
    }

    /// Adds `$defs` to `schema` (an object): every model noted, and every model their fields
    /// reach. Nothing when no model was noted.
    fn attach(mut self, schema: &mut Value) {
        if self.0.is_empty() {
            return;
        }
        let mut defs = Map::new();
        let mut i = 0;
        while i < self.0.len() {
            let m = self.0[i];
            let props: Map<String, Value> = m
                .fields
                .iter()
                .map(|f| {
                    let mut s = f.ty.schema_in(&mut self);
                    describe(&mut s, f.doc, &[]);
                    if f.secret {
                        mark(&mut s, "x-secret");
                    }
                    (f.name.to_string(), s)
                })
                .collect();
            defs.insert(
                m.name.into(),
                json!({"type": "object", "description": m.doc, "properties": props}),
            );
            i += 1;
        }
        if let Value::Object(o) = schema {
            o.insert("$defs".into(), Value::Object(defs));
        }
    }
}

/// Adds a description and documented values (`enum`) to a property's schema.
fn describe(schema: &mut Value, doc: &str, values: &[&str]) {
    if let Value::Object(o) = schema {
        o.insert("description".into(), Value::String(doc.into()));
        if !values.is_empty() {
            o.insert("enum".into(), json!(values));
        }
    }
}

/// Sets the flag `key` (`x-secret`, `x-context`) to `true`.
fn mark(schema: &mut Value, key: &str) {
    if let Value::Object(o) = schema {
        o.insert(key.into(), Value::Bool(true));
    }
}

impl ParamType {
    /// The JSON Schema of this type; the models it reaches are under `$defs`.
    ///
    /// ```
    /// use yida_api::ParamType;
    /// assert_eq!(ParamType::List(&ParamType::String).json_schema()["items"]["type"], "string");
    /// ```
    pub fn json_schema(&self) -> Value {
        let mut defs = Defs::default();
        let mut schema = self.schema_in(&mut defs);
        defs.attach(&mut schema);
        schema
    }

    /// The schema of this type, the models it names noted in `defs`.
    fn schema_in(&self, defs: &mut Defs) -> Value {
        match self {
            ParamType::String => json!({"type": "string"}),
            ParamType::I64 => json!({"type": "integer"}),
            ParamType::F64 => json!({"type": "number"}),
            ParamType::Bool => json!({"type": "boolean"}),
            ParamType::Json => json!({}),
            ParamType::JsonText => {
                json!({"type": "string", "contentMediaType": "application/json"})
            }
            ParamType::List(t) => json!({"type": "array", "items": t.schema_in(defs)}),
            ParamType::Map(t) => {
                json!({"type": "object", "additionalProperties": t.schema_in(defs)})
            }
            ParamType::Model(m) => defs.reference(m),
        }
    }

    /// The model this type holds, itself or through lists and maps (`list<Form>` → `Form`).
    ///
    /// ```
    /// let op = yida_api::operation("SearchFormDatas", "2.0").unwrap();
    /// let data = op.reply.unwrap().fields.iter().find(|f| f.name == "data").unwrap();
    /// assert!(data.ty.model().is_some());
    /// ```
    pub fn model(&self) -> Option<&'static ModelMeta> {
        match self {
            ParamType::Model(m) => Some(m),
            ParamType::List(t) | ParamType::Map(t) => t.model(),
            _ => None,
        }
    }
}

impl ModelMeta {
    /// Replaces the values of secret fields (at any depth) with `"<redacted>"`.
    fn redact(&self, v: &mut Value, depth: usize) {
        let Value::Object(map) = v else {
            return;
        };
        for f in self.fields {
            if let Some(item) = map.get_mut(f.name) {
                if f.secret && !item.is_null() {
                    *item = Value::String("<redacted>".into());
                } else {
                    redact_type(&f.ty, item, depth + 1);
                }
            }
        }
    }
}

fn redact_type(ty: &ParamType, v: &mut Value, depth: usize) {
    if depth > MAX_REDACT_DEPTH {
        return;
    }
    match (ty, v) {
        (ParamType::Model(m), v) => m.redact(v, depth),
        (ParamType::List(t), Value::Array(items)) => {
            items.iter_mut().for_each(|i| redact_type(t, i, depth + 1))
        }
        (ParamType::Map(t), Value::Object(m)) => {
            m.values_mut().for_each(|i| redact_type(t, i, depth + 1))
        }
        _ => {}
    }
}

impl OperationMeta {
    /// The JSON Schema of a dynamic call's input ([`Client::call`](crate::Client::call)): an
    /// object of the parameters by wire name, each with its type, description, documented
    /// values (`enum`), where it travels (`x-in`), `x-context` when the client's app context
    /// fills it (then not `required`) and `x-secret` for secrets; models under `$defs`.
    ///
    /// ```
    /// let op = yida_api::operation("SearchFormDatas", "2.0").unwrap();
    /// let schema = op.input_schema();
    /// assert_eq!(schema["properties"]["formUuid"]["type"], "string");
    /// assert_eq!(schema["properties"]["systemToken"]["x-secret"], true);
    /// ```
    pub fn input_schema(&self) -> Value {
        let mut defs = Defs::default();
        let mut props = Map::new();
        let mut required = Vec::new();
        for p in self.params {
            let mut s = p.ty.schema_in(&mut defs);
            describe(&mut s, p.doc, p.values);
            if let Value::Object(o) = &mut s {
                o.insert("x-in".into(), Value::String(p.location.as_str().into()));
            }
            if p.context {
                mark(&mut s, "x-context");
            }
            if p.secret {
                mark(&mut s, "x-secret");
            }
            if p.required && !p.context {
                required.push(Value::String(p.name.into()));
            }
            props.insert(p.name.into(), s);
        }
        let mut schema = json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        });
        defs.attach(&mut schema);
        schema
    }

    /// The JSON Schema of the reply (`{"$ref": "#/$defs/<Reply>", "$defs": …}`), `None` for
    /// an empty reply.
    ///
    /// ```
    /// let op = yida_api::operation("SearchFormDatas", "2.0").unwrap();
    /// let schema = op.reply_schema().unwrap();
    /// assert_eq!(schema["$ref"], "#/$defs/SearchFormDatasResponse");
    /// assert!(schema["$defs"]["SearchFormDatasResponse"]["properties"]["data"].is_object());
    /// ```
    pub fn reply_schema(&self) -> Option<Value> {
        let model = self.reply?;
        let mut defs = Defs::default();
        let mut schema = defs.reference(model);
        defs.attach(&mut schema);
        Some(schema)
    }

    /// Replaces the values of the reply's secret fields (as the spec marks them) with
    /// `"<redacted>"`, for output that must not carry secrets (tool output, logs).
    ///
    /// ```
    /// let op = yida_api::operation("GetDbConfig", "1.0").unwrap();
    /// let mut reply = serde_json::json!({"config": "password=x", "corpId": "c"});
    /// op.redact_reply(&mut reply);
    /// assert!(!reply.to_string().contains("password=x"));
    /// ```
    pub fn redact_reply(&self, reply: &mut Value) {
        if let Some(m) = self.reply {
            m.redact(reply, 0);
        }
    }
}

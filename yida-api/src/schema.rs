//! JSON Schema of an operation's input and reply, and secret reply fields redacted — derived
//! from the typed model ([`OperationMeta`], [`ParamType`], [`ModelMeta`]), never from text.

use serde_json::{json, Map, Value};

use crate::{ModelMeta, OperationMeta, ParamType};

/// Models nested deeper than this are described as any JSON (models may contain themselves).
const MAX_DEPTH: usize = 8;

impl ParamType {
    /// The JSON Schema of this type (models inlined with their fields).
    ///
    /// ```
    /// use yida_api::ParamType;
    /// assert_eq!(ParamType::List(&ParamType::String).json_schema()["items"]["type"], "string");
    /// ```
    pub fn json_schema(&self) -> Value {
        self.schema_at(0)
    }

    fn schema_at(&self, depth: usize) -> Value {
        match self {
            ParamType::String => json!({"type": "string"}),
            ParamType::I64 => json!({"type": "integer"}),
            ParamType::F64 => json!({"type": "number"}),
            ParamType::Bool => json!({"type": "boolean"}),
            ParamType::Json => json!({}),
            ParamType::JsonText => {
                json!({"type": "string", "contentMediaType": "application/json"})
            }
            ParamType::List(t) => json!({"type": "array", "items": t.schema_at(depth + 1)}),
            ParamType::Map(t) => {
                json!({"type": "object", "additionalProperties": t.schema_at(depth + 1)})
            }
            ParamType::Model(m) if depth < MAX_DEPTH => m.schema_at(depth + 1),
            ParamType::Model(m) => json!({"type": "object", "description": m.doc}),
        }
    }
}

impl ModelMeta {
    fn schema_at(&self, depth: usize) -> Value {
        let props: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| {
                let mut s = f.ty.schema_at(depth);
                if let Value::Object(o) = &mut s {
                    o.insert("description".into(), Value::String(f.doc.into()));
                    if f.secret {
                        o.insert("x-secret".into(), Value::Bool(true));
                    }
                }
                (f.name.to_string(), s)
            })
            .collect();
        json!({"type": "object", "title": self.name, "description": self.doc, "properties": props})
    }

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
    if depth > MAX_DEPTH * 4 {
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
    /// fills it (then not `required`) and `x-secret` for secrets.
    ///
    /// ```
    /// let op = yida_api::operation("SearchFormDatas", "2.0").unwrap();
    /// let schema = op.input_schema();
    /// assert_eq!(schema["properties"]["formUuid"]["type"], "string");
    /// assert_eq!(schema["properties"]["systemToken"]["x-secret"], true);
    /// ```
    pub fn input_schema(&self) -> Value {
        let mut props = Map::new();
        let mut required = Vec::new();
        for p in self.params {
            let mut s = p.ty.json_schema();
            if let Value::Object(o) = &mut s {
                o.insert("description".into(), Value::String(p.doc.into()));
                if !p.values.is_empty() {
                    o.insert("enum".into(), json!(p.values));
                }
                o.insert("x-in".into(), Value::String(p.location.as_str().into()));
                if p.context {
                    o.insert("x-context".into(), Value::Bool(true));
                }
                if p.secret {
                    o.insert("x-secret".into(), Value::Bool(true));
                }
            }
            if p.required && !p.context {
                required.push(Value::String(p.name.into()));
            }
            props.insert(p.name.into(), s);
        }
        json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The JSON Schema of the reply, `None` for an empty reply.
    pub fn reply_schema(&self) -> Option<Value> {
        self.reply.map(|m| m.schema_at(0))
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

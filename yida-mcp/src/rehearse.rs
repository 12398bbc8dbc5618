//! Rehearsal: a write runs first against an in-process Yida emulator that holds the live
//! form's component definitions and the records the agent has read; DingTalk sees nothing
//! until `apply_rehearsal` sends the same operation and input for real.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::{json, Map, Value};
use yida_api::components::ComponentKind;
use yida_api::{Client, OperationMeta};
use yida_emulator::{Emulator, Options as EmuOptions, Seed};

/// What a rehearsed write did.
pub(crate) struct Outcome {
    pub id: String,
    pub reply: Value,
    pub record: Value,
}

pub(crate) struct Rehearsal {
    emulator: Emulator,
    client: Client,
    app_type: Option<String>,
    forms: HashSet<String>,
    /// Real record id → its copy's id in the emulator.
    ids: HashMap<String, String>,
    planned: Mutex<HashMap<String, (&'static OperationMeta, Value)>>,
    next: u64,
}

/// Planned writes kept at once; the oldest are dropped past this.
const PLANNED: usize = 100;

impl Rehearsal {
    /// Starts the local emulator (loopback, a free port) for the app `app_type`.
    pub(crate) async fn start(app_type: Option<String>) -> Result<Rehearsal, String> {
        let app = app_type.clone().unwrap_or_else(|| "APP_REHEARSAL".into());
        let seed: Seed = serde_json::from_value(json!({
            "internalApps": [{"appKey": "rehearsal", "appSecret": random_token()}],
            "apps": [{"appType": app, "systemToken": random_token(), "name": "rehearsal"}],
            "users": [{"userId": "rehearsal-user", "name": "rehearsal"}],
        }))
        .map_err(|e| format!("rehearsal seed: {e}"))?;
        let emulator = Emulator::start_with(EmuOptions::default().seed(seed))
            .await
            .map_err(|e| format!("cannot start the rehearsal emulator: {e}"))?;
        let client = Client::builder()
            .endpoint(emulator.endpoint())
            .internal_app(emulator.app_key(), emulator.app_secret())
            .map_err(|e| format!("rehearsal client: {e}"))?
            .context(emulator.app_context())
            .build()
            .map_err(|e| format!("rehearsal client: {e}"))?;
        Ok(Rehearsal {
            emulator,
            client,
            app_type,
            forms: HashSet::new(),
            ids: HashMap::new(),
            planned: Mutex::new(HashMap::new()),
            next: 0,
        })
    }

    /// Runs `meta` with `input` against the emulator, after copying in the forms and records it
    /// touches (`real` reads the form definitions: one read call per form, once).
    pub(crate) async fn run(
        &mut self,
        real: &Client,
        meta: &'static OperationMeta,
        input: Value,
        known: &[(String, String, Value)],
    ) -> Result<Outcome, String> {
        let mut forms: Vec<String> = Vec::new();
        if let Some(f) = input.get("formUuid").and_then(Value::as_str) {
            forms.push(f.to_string());
        }
        for (_, form, _) in known {
            if !forms.contains(form) {
                forms.push(form.clone());
            }
        }
        for form in &forms {
            self.load_form(real, form).await?;
        }
        for (id, form, data) in known {
            if self.ids.contains_key(id) || !self.forms.contains(form) {
                continue;
            }
            // A record that does not fit the form's definitions is left out: a write to it
            // then fails in the rehearsal as it names an unknown record.
            if let Ok(copy) = self.emulator.insert_record(form, write_shape(data)) {
                self.ids.insert(id.clone(), copy);
            }
        }
        // The copies have ids of their own: the input names them, the output the real ones.
        let mut rehearsal_input = input.clone();
        replace_strings(&mut rehearsal_input, &self.ids);
        if let Value::Object(m) = &mut rehearsal_input {
            // The emulator's app context fills these; the real ones stay with the real call.
            m.remove("systemToken");
            m.remove("userId");
        }
        let reply = match self.client.call(meta, rehearsal_input.clone()).await {
            Ok(Some(raw)) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            Ok(None) => Value::Null,
            Err(e) => {
                return Err(format!(
                    "the rehearsal failed, so the real call would too (or differ): {e}"
                ))
            }
        };
        let record_id = rehearsal_input
            .get("formInstanceId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                reply
                    .get("result")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        let mut record = match record_id {
            Some(id) => self.read_back(&id).await,
            None => Value::Null,
        };
        let back: HashMap<String, String> = self
            .ids
            .iter()
            .map(|(real, copy)| (copy.clone(), real.clone()))
            .collect();
        let mut reply = reply;
        replace_strings(&mut reply, &back);
        replace_strings(&mut record, &back);
        self.next += 1;
        let id = format!("rh-{}", self.next);
        if let Ok(mut planned) = self.planned.lock() {
            if planned.len() >= PLANNED {
                let oldest = planned
                    .keys()
                    .min_by_key(|k| k[3..].parse::<u64>().unwrap_or(0))
                    .cloned();
                if let Some(k) = oldest {
                    planned.remove(&k);
                }
            }
            planned.insert(id.clone(), (meta, input));
        }
        Ok(Outcome { id, reply, record })
    }

    /// The planned write of rehearsal `id`, taken (it can be applied once).
    pub(crate) fn take_planned(&self, id: &str) -> Option<(&'static OperationMeta, Value)> {
        self.planned.lock().ok()?.remove(id)
    }

    async fn load_form(&mut self, real: &Client, form: &str) -> Result<(), String> {
        if self.forms.contains(form) {
            return Ok(());
        }
        let app = self
            .app_type
            .clone()
            .unwrap_or_else(|| "APP_REHEARSAL".into());
        let meta = yida_api::operation("GetFormComponentDefinitionList", "1.0")
            .ok_or("GetFormComponentDefinitionList is not compiled in")?;
        let reply = real
            .call(meta, json!({ "formUuid": form, "appType": app }))
            .await
            .map_err(|e| format!("cannot read the definitions of form {form}: {e}"))?
            .ok_or_else(|| format!("form {form}: empty definitions reply"))?;
        let defs: Value = serde_json::from_str(reply.get()).unwrap_or(Value::Null);
        let components: Vec<Value> = defs
            .get("result")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|d| {
                        let field_id = d.get("fieldId")?.as_str()?;
                        let mut c =
                            json!({"fieldId": field_id, "label": label_text(d.get("label"))});
                        if let Some(n) = d.get("componentName").and_then(Value::as_str) {
                            c["componentName"] = Value::String(n.into());
                        }
                        if let Some(p) = d
                            .get("parentId")
                            .and_then(Value::as_str)
                            .filter(|p| !p.is_empty())
                        {
                            c["parentId"] = Value::String(p.into());
                        }
                        Some(c)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let seed_form: yida_emulator::seed::Form = serde_json::from_value(json!({
            "formUuid": form, "appType": app, "title": form, "components": components,
        }))
        .map_err(|e| format!("form {form}: {e}"))?;
        self.emulator
            .update_seed(|seed| seed.forms.push(seed_form))
            .map_err(|e| format!("form {form}: {e}"))?;
        self.forms.insert(form.to_string());
        Ok(())
    }

    async fn read_back(&self, id: &str) -> Value {
        let Some(meta) = yida_api::operation("GetFormDataByID", "2.0") else {
            return Value::Null;
        };
        match self.client.call(meta, json!({ "id": id })).await {
            Ok(Some(raw)) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
}

/// A record's `formData` as read, turned into what a write takes: twin keys used where they
/// hold the ids (members, departments), JSON text parsed, read-only components left out.
pub(crate) fn write_shape(read: &Value) -> Value {
    let Value::Object(map) = read else {
        return read.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if ComponentKind::twin_of(key).is_some() {
            continue;
        }
        let Some(kind) = ComponentKind::from_field_id(key) else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        if kind.read_only() {
            continue;
        }
        let info = kind.info();
        let from_twin = info.read.twin.and_then(|t| {
            let v = map.get(&format!("{key}{}", t.suffix))?;
            let ids_twin = matches!(
                t.shape,
                yida_api::components::Shape::UserIds | yida_api::components::Shape::DepartmentIds
            );
            ids_twin.then(|| parse_text(v, t.json_text))
        });
        let v = from_twin.unwrap_or_else(|| parse_text(value, info.read.json_text));
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

/// Replaces every string equal to a key of `map` with its value, anywhere in `v`.
fn replace_strings(v: &mut Value, map: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(to) = map.get(s.as_str()) {
                *s = to.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| replace_strings(i, map)),
        Value::Object(m) => m.values_mut().for_each(|i| replace_strings(i, map)),
        _ => {}
    }
}

/// A label as text (the Chinese text of an i18n label).
fn label_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o
                .get("zh_CN")
                .or_else(|| o.get("en_US"))
                .and_then(Value::as_str)
                .unwrap_or(s)
                .to_string(),
            _ => s.clone(),
        },
        Some(Value::Object(o)) => o
            .get("zh_CN")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

fn parse_text(v: &Value, json_text: bool) -> Value {
    match v {
        Value::String(s) if json_text => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}

fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    format!("rh-{:016x}", h.finish())
}

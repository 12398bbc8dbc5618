//! Typed events, shared by HTTP push (flat JSON) and Stream mode (headers + data).

use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::{Secret, REDACTED};

/// Payload fields holding secrets; [`Event::data`] shows them as `** redacted **`, the typed
/// variants hold them as [`Secret`].
const SECRET_FIELDS: &[&str] = &[
    "SuiteTicket",
    "suiteTicket",
    "AuthCode",
    "authCode",
    "permanentCode",
    "permanent_code",
    "PermanentCode",
];

/// One event DingTalk pushed, whatever the envelope it came in.
///
/// `Debug` shows no secret: suite tickets, temporary auth codes and permanent codes are
/// redacted in [`data`](Event::data) and held as [`Secret`] in [`kind`](Event::kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event type (`EventType` in HTTP pushes, the `eventType` header in Stream mode).
    pub event_type: String,
    /// The event id, where the event has one.
    pub event_id: Option<String>,
    /// The company the event concerns, where it says.
    pub corp_id: Option<String>,
    /// When DingTalk created the event, where it says.
    pub born_at: Option<SystemTime>,
    /// The payload as a JSON object (secret fields redacted). For HTTP pushes: the whole
    /// decrypted message; for Stream mode: the frame's `data`.
    pub data: Value,
    /// The typed view.
    pub kind: EventKind,
}

/// The typed view of an event. Event types without a variant are [`EventKind::Other`]:
/// never dropped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `suite_ticket`: the newest suite ticket of a third-party app.
    SuiteTicket(SuiteTicketEvent),
    /// `tmp_auth_code`: a company authorized a third-party app (HTTP push).
    TmpAuthCode(TmpAuthCode),
    /// `check_url`, `check_create_suite_url`, `check_update_suite_url`: DingTalk checks the
    /// callback URL; answer `success` (every valid push gets that reply).
    CheckUrl(CheckUrl),
    /// A third-party app lifecycle event: `org_suite_auth`, `org_suite_change`,
    /// `org_suite_relieve`, `org_micro_app_restore`, `org_micro_app_remove`,
    /// `org_micro_app_stop`, `suite_relieve`, `market_buy`, `org_update`.
    SuiteLifecycle(SuiteLifecycle),
    /// `bpms_instance_change`: an approval instance started, finished, was terminated or
    /// deleted.
    BpmsInstanceChange(BpmsInstanceChange),
    /// `bpms_task_change`: an approval task started, finished or was cancelled.
    BpmsTaskChange(BpmsTaskChange),
    /// Any other event type: see [`Event::event_type`] and [`Event::data`].
    Other,
}

/// A pushed suite ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteTicketEvent {
    /// The suite the ticket is for (HTTP pushes name it).
    pub suite_key: Option<String>,
    /// The ticket.
    pub ticket: Secret,
    /// The push's own time stamp (`TimeStamp`, else the Stream `eventBornTime`).
    pub pushed_at: Option<SystemTime>,
}

/// A temporary authorization code (exchange it for the permanent code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpAuthCode {
    /// The suite.
    pub suite_key: Option<String>,
    /// The temporary code.
    pub auth_code: Secret,
}

/// A callback URL check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckUrl {
    /// `Random`, where sent.
    pub random: Option<String>,
    /// `TestSuiteKey`, where sent.
    pub test_suite_key: Option<String>,
}

/// A third-party app lifecycle event. The full payload is in [`Event::data`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteLifecycle {
    /// The suite, where named.
    pub suite_key: Option<String>,
    /// The company concerned, where named (`AuthCorpId`, `authCorpInfo.corpid`, …).
    pub auth_corp_id: Option<String>,
    /// The permanent code (`org_suite_auth`, `org_suite_change`), where sent.
    pub permanent_code: Option<Secret>,
}

/// What happened to an approval instance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstanceChange {
    /// `start`.
    Start,
    /// `finish` (see [`BpmsInstanceChange::result`]).
    Finish,
    /// `terminate`: the initiator withdrew it.
    Terminate,
    /// `delete`.
    Delete,
    /// Another value.
    Other(String),
}

/// What happened to an approval task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskChange {
    /// `start`.
    Start,
    /// `finish` (see [`BpmsTaskChange::result`]).
    Finish,
    /// `cancel`: another approver of an or-sign node acted first.
    Cancel,
    /// Another value (`comment`, `redirect`, …).
    Other(String),
}

/// An approval outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalResult {
    /// `agree`.
    Agree,
    /// `refuse`.
    Refuse,
    /// Another value (`redirect`, …).
    Other(String),
}

/// `bpms_instance_change`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpmsInstanceChange {
    /// The approval instance.
    pub process_instance_id: String,
    /// What happened.
    pub change: InstanceChange,
    /// The outcome of a `finish`.
    pub result: Option<ApprovalResult>,
    /// The process (form) code.
    pub process_code: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The user concerned.
    pub staff_id: Option<String>,
    /// Business id.
    pub business_id: Option<String>,
    /// Created, where sent.
    pub create_time: Option<SystemTime>,
    /// Finished, where sent.
    pub finish_time: Option<SystemTime>,
}

/// `bpms_task_change`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpmsTaskChange {
    /// The approval instance.
    pub process_instance_id: String,
    /// What happened.
    pub change: TaskChange,
    /// The outcome of a `finish`.
    pub result: Option<ApprovalResult>,
    /// The task, where sent.
    pub task_id: Option<String>,
    /// The process (form) code.
    pub process_code: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The approver.
    pub staff_id: Option<String>,
    /// The approver's remark.
    pub remark: Option<String>,
    /// Created, where sent.
    pub create_time: Option<SystemTime>,
    /// Finished, where sent.
    pub finish_time: Option<SystemTime>,
}

impl Event {
    /// An event from a decrypted HTTP push (flat JSON with `EventType`).
    pub fn from_http(message: Value) -> Event {
        let obj = message.as_object();
        let get = |k: &str| obj.and_then(|o| o.get(k));
        let event_type = first_str(obj, &["EventType", "eventType", "syncAction"])
            .unwrap_or_default()
            .to_string();
        let event_id = first_str(obj, &["eventId", "EventId"]).map(str::to_string);
        let corp_id =
            first_str(obj, &["CorpId", "corpId", "AuthCorpId", "corp_id"]).map(str::to_string);
        let born_at = ["EventTime", "TimeStamp", "timeStamp"]
            .iter()
            .find_map(|k| get(k).and_then(time_of));
        Event::build(event_type, event_id, corp_id, born_at, message)
    }

    /// An event from a Stream mode EVENT frame: its headers and its parsed `data`.
    pub fn from_stream(headers: &Map<String, Value>, data: Value) -> Event {
        let h = |k: &str| headers.get(k).and_then(Value::as_str).map(str::to_string);
        let event_type = h("eventType").unwrap_or_else(|| h("topic").unwrap_or_default());
        let born_at = headers.get("eventBornTime").and_then(time_of);
        Event::build(event_type, h("eventId"), h("eventCorpId"), born_at, data)
    }

    fn build(
        event_type: String,
        event_id: Option<String>,
        corp_id: Option<String>,
        born_at: Option<SystemTime>,
        data: Value,
    ) -> Event {
        let data = match data {
            Value::Object(_) => data,
            other => {
                let mut m = Map::new();
                m.insert("value".into(), other);
                Value::Object(m)
            }
        };
        let kind = kind_of(&event_type, data.as_object(), born_at);
        let corp_id = corp_id.or_else(|| {
            first_str(data.as_object(), &["corpId", "CorpId", "AuthCorpId"]).map(str::to_string)
        });
        Event {
            event_type,
            event_id,
            corp_id,
            born_at,
            data: redact(data),
            kind,
        }
    }

    /// The event as one JSON line: `{"type","eventId","corpId","data"}` (`eventId` and
    /// `corpId` are `null` where the event has none). Secrets stay redacted.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "type": self.event_type,
            "eventId": self.event_id,
            "corpId": self.corp_id,
            "data": self.data,
        })
        .to_string()
    }
}

fn first_str<'a>(obj: Option<&'a Map<String, Value>>, keys: &[&str]) -> Option<&'a str> {
    let o = obj?;
    keys.iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn string_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time in milliseconds (or seconds, for values below 10^11), as number or text.
fn time_of(v: &Value) -> Option<SystemTime> {
    let n = match v {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let ms = if n < 100_000_000_000 {
        n.checked_mul(1000)?
    } else {
        n
    };
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

fn result_of(v: Option<&Value>) -> Option<ApprovalResult> {
    Some(match v?.as_str()? {
        "" => return None,
        "agree" => ApprovalResult::Agree,
        "refuse" => ApprovalResult::Refuse,
        other => ApprovalResult::Other(other.into()),
    })
}

fn kind_of(
    event_type: &str,
    obj: Option<&Map<String, Value>>,
    born_at: Option<SystemTime>,
) -> EventKind {
    let get = |k: &str| obj.and_then(|o| o.get(k));
    let s = |keys: &[&str]| first_str(obj, keys).map(str::to_string);
    let time = |keys: &[&str]| keys.iter().find_map(|k| get(k).and_then(time_of));
    match event_type {
        "suite_ticket" => match s(&["SuiteTicket", "suiteTicket"]) {
            Some(ticket) => EventKind::SuiteTicket(SuiteTicketEvent {
                suite_key: s(&["SuiteKey", "suiteKey"]),
                ticket: Secret::new(ticket),
                pushed_at: time(&["TimeStamp", "timeStamp"]).or(born_at),
            }),
            None => EventKind::Other,
        },
        "tmp_auth_code" => match s(&["AuthCode", "authCode"]) {
            Some(code) => EventKind::TmpAuthCode(TmpAuthCode {
                suite_key: s(&["SuiteKey", "suiteKey"]),
                auth_code: Secret::new(code),
            }),
            None => EventKind::Other,
        },
        "check_url" | "check_create_suite_url" | "check_update_suite_url" => {
            EventKind::CheckUrl(CheckUrl {
                random: s(&["Random", "random"]),
                test_suite_key: s(&["TestSuiteKey", "testSuiteKey"]),
            })
        }
        "org_suite_auth"
        | "org_suite_change"
        | "org_suite_relieve"
        | "org_micro_app_restore"
        | "org_micro_app_remove"
        | "org_micro_app_stop"
        | "suite_relieve"
        | "market_buy"
        | "org_update"
        | "change_auth" => {
            let nested_corp = ["authCorpInfo", "auth_corp_info"].iter().find_map(|k| {
                get(k)
                    .and_then(|c| c.get("corpid"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            EventKind::SuiteLifecycle(SuiteLifecycle {
                suite_key: s(&["SuiteKey", "suiteKey"]),
                auth_corp_id: s(&["AuthCorpId", "authCorpId", "CorpId", "corpId"]).or(nested_corp),
                permanent_code: s(&["permanentCode", "permanent_code", "PermanentCode"])
                    .map(Secret::new),
            })
        }
        "bpms_instance_change" => match s(&["processInstanceId"]) {
            Some(id) => EventKind::BpmsInstanceChange(BpmsInstanceChange {
                process_instance_id: id,
                change: match get("type").and_then(Value::as_str).unwrap_or("") {
                    "start" => InstanceChange::Start,
                    "finish" => InstanceChange::Finish,
                    "terminate" => InstanceChange::Terminate,
                    "delete" => InstanceChange::Delete,
                    other => InstanceChange::Other(other.into()),
                },
                result: result_of(get("result")),
                process_code: s(&["processCode"]),
                title: s(&["title"]),
                staff_id: s(&["staffId"]),
                business_id: s(&["businessId"]),
                create_time: time(&["createTime"]),
                finish_time: time(&["finishTime"]),
            }),
            None => EventKind::Other,
        },
        "bpms_task_change" => match s(&["processInstanceId"]) {
            Some(id) => EventKind::BpmsTaskChange(BpmsTaskChange {
                process_instance_id: id,
                change: match get("type").and_then(Value::as_str).unwrap_or("") {
                    "start" => TaskChange::Start,
                    "finish" => TaskChange::Finish,
                    "cancel" => TaskChange::Cancel,
                    other => TaskChange::Other(other.into()),
                },
                result: result_of(get("result")),
                task_id: string_of(get("taskId")),
                process_code: s(&["processCode"]),
                title: s(&["title"]),
                staff_id: s(&["staffId"]),
                remark: s(&["remark"]),
                create_time: time(&["createTime"]),
                finish_time: time(&["finishTime"]),
            }),
            None => EventKind::Other,
        },
        _ => EventKind::Other,
    }
}

/// Replaces secret fields, at any depth, with `** redacted **`.
fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if SECRET_FIELDS.contains(&k.as_str()) && !val.is_null() {
                        *val = Value::String(REDACTED.into());
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

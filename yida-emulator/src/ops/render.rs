//! Reply shapes shared by the areas: people, records, titles, form values as read.

use crate::filters::gmt;
use crate::seed::Seed;
use crate::store::{Record, State};
use crate::values;
use serde_json::{json, Map, Value};

pub(super) fn person(seed: &Seed, id: &str, dept_key: &str, name_key: &str) -> Value {
    let u = seed.user(id);
    let mut m = Map::new();
    m.insert("userId".into(), json!(id));
    m.insert(
        name_key.into(),
        json!({
            "nameInChinese": u.map(|u| u.name.clone()).unwrap_or_else(|| id.to_string()),
            "nameInEnglish": u.map(|u| u.name_in_english.clone()).unwrap_or_else(|| id.to_string()),
            "type": "i18n",
        }),
    );
    if !dept_key.is_empty() {
        m.insert(
            dept_key.into(),
            json!(u.map(|u| u.department.clone()).unwrap_or_default()),
        );
        m.insert(
            "email".into(),
            json!(u.map(|u| u.email.clone()).unwrap_or_default()),
        );
    }
    Value::Object(m)
}
/// Values as replies show them, per component kind of the record's form.
pub(super) fn out_data(
    seed: &Seed,
    st: &State,
    form_uuid: &str,
    data: &Map<String, Value>,
) -> Value {
    values::shown(seed, st, seed.form(form_uuid), data)
}

pub(super) fn record_json(seed: &Seed, st: &State, r: &Record) -> Value {
    json!({
        "formInstanceId": r.form_instance_id,
        "formUuid": r.form_uuid,
        "dataId": r.data_id,
        "formData": out_data(seed, st, &r.form_uuid, &r.data),
        "createdTimeGMT": gmt(r.created_ms),
        "modifiedTimeGMT": gmt(r.modified_ms),
        "creatorUserId": r.creator,
        "modifierUserId": r.modifier,
        "originator": person(seed, &r.creator, "", "userName"),
        "modifyUser": person(seed, &r.modifier, "", "userName"),
        "version": r.version,
        "title": title_of(seed, &r.creator, &r.form_uuid),
        "serialNo": values::serial_no(r.data_id),
        "instanceValue": "[]",
    })
}
pub(super) fn title_of(seed: &Seed, user: &str, form_uuid: &str) -> String {
    let name = seed
        .user(user)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| user.to_string());
    let form = seed
        .form(form_uuid)
        .map(|f| f.title.clone())
        .unwrap_or_default();
    format!("{name}发起的{form}")
}

//! The emulated operations: one table from operation to handler, and the handlers by area.
//!
//! A new emulated operation is one handler function in its area's module and one row of
//! [`TABLE`]; validation of its parameters already comes from the spec, and every operation
//! missing from the table answers HTTP 501 `notEmulated` after validation.

mod attachments;
mod forms;
mod processes;
mod render;
mod search;
mod tables;
mod tasks;

use crate::seed::{Form, Seed};
use crate::shared::{ApiErr, Shared};
use crate::stream::Hub;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use yida_api::{OpId, OperationMeta as Op};

pub(crate) use forms::new_record;

/// Runs one emulated operation over validated parameters; `Ok(None)` is an empty 200 reply.
pub type Handler = fn(&Call) -> Result<Option<Value>, ApiErr>;

/// Every emulated operation: its id → its handler.
const TABLE: &[(OpId, Handler)] = &[
    // forms
    (OpId::SaveFormData, forms::save),
    (OpId::SaveFormDataV2, forms::save),
    (OpId::BatchSaveFormData, forms::batch_save),
    (OpId::CreateOrUpdateFormData, forms::create_or_update),
    (OpId::CreateOrUpdateFormDataV2, forms::create_or_update),
    (OpId::UpdateFormData, forms::update),
    (OpId::UpdateFormDataV2, forms::update),
    (
        OpId::BatchUpdateFormDataByInstanceId,
        forms::batch_update_by_id,
    ),
    (
        OpId::BatchUpdateFormDataByInstanceMap,
        forms::batch_update_by_map,
    ),
    (OpId::DeleteFormData, forms::delete),
    (OpId::BatchRemovalByFormInstanceIdList, forms::batch_remove),
    (OpId::GetFormDataById, forms::get_by_id),
    (OpId::GetFormDataByIdV2, forms::get_by_id),
    (OpId::BatchGetFormDataByIdList, forms::batch_get),
    (OpId::ListOperationLogs, forms::operation_logs),
    (
        OpId::GetFormComponentDefinitionList,
        forms::component_definitions,
    ),
    (OpId::GetFormListInApp, forms::list_forms),
    (
        OpId::ListTableDataByFormInstanceIdTableId,
        tables::list_rows,
    ),
    // attachments
    (OpId::GetOpenUrl, attachments::open_url),
    // search
    (OpId::SearchFormDatas, search::search_records),
    (OpId::SearchFormDatasV2, search::search_records),
    (OpId::SearchFormDataIdList, search::search_ids),
    (OpId::SearchFormDataIdListV2, search::search_ids),
    // processes
    (OpId::StartInstance, processes::start),
    (OpId::StartInstanceV2, processes::start),
    (OpId::GetInstanceById, processes::get_by_id),
    (OpId::GetInstanceByIdV2, processes::get_by_id),
    (OpId::GetInstances, processes::list),
    (OpId::GetInstancesV2, processes::list),
    (OpId::GetInstanceIdList, processes::id_list),
    (OpId::GetInstanceIdListV2, processes::id_list),
    (OpId::GetInstancesByIdList, processes::by_id_list),
    (OpId::TerminateInstance, processes::terminate),
    (OpId::DeleteInstance, processes::delete),
    (OpId::GetOperationRecords, processes::operation_records),
    // tasks
    (OpId::GetRunningTasks, tasks::running),
    (OpId::ExecuteTask, tasks::execute),
];

fn table() -> &'static HashMap<OpId, Handler> {
    static MAP: OnceLock<HashMap<OpId, Handler>> = OnceLock::new();
    MAP.get_or_init(|| TABLE.iter().copied().collect())
}

/// The handler of an operation, or `None` when it is not emulated.
pub fn handler(id: OpId) -> Option<Handler> {
    table().get(&id).copied()
}

/// Every emulated operation, in table order.
pub(crate) fn emulated() -> impl Iterator<Item = OpId> {
    TABLE.iter().map(|&(id, _)| id)
}

/// One call, as its handler sees it.
pub struct Call<'a> {
    /// The state.
    pub shared: &'a Shared,
    /// Where events go.
    pub hub: &'a Hub,
    /// The parameters, validated against the spec.
    pub p: P,
    /// The seed at the time of the call.
    pub seed: Seed,
    /// `userId` (empty when the operation has none).
    pub user: String,
    /// `appType` (empty when the operation has none).
    pub app: String,
}

impl<'a> Call<'a> {
    /// Checks the context parameters (`appType`, `systemToken`, `userId`) against the seed.
    pub fn new(
        shared: &'a Shared,
        hub: &'a Hub,
        op: &'static Op,
        params: Map<String, Value>,
    ) -> Result<Call<'a>, ApiErr> {
        let p = P(params);
        let seed = shared.seed();
        check_context(&seed, op, &p)?;
        let user = p.s("userId").unwrap_or_default().to_string();
        let app = p.s("appType").unwrap_or_default().to_string();
        Ok(Call {
            shared,
            hub,
            p,
            seed,
            user,
            app,
        })
    }

    /// Pushes events to the Stream clients, stamped with the seed's company.
    fn publish(&self, events: Vec<Event>) {
        for (ty, mut data) in events {
            data["corpId"] = Value::from(self.seed.corp_id.as_str());
            self.hub.publish(ty, &self.seed.corp_id, data);
        }
    }
}

/// An event to push: `(eventType, data)`.
pub(crate) type Event = (&'static str, Value);

/// The parameters of one call, validated against the spec.
pub struct P(Map<String, Value>);

impl P {
    fn s(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
    fn req(&self, k: &str) -> Result<&str, ApiErr> {
        self.s(k).ok_or_else(|| {
            ApiErr::bad(
                "missingParameter",
                format!("缺少必填参数: {k} is mandatory for this action."),
            )
        })
    }
    fn i(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_i64)
    }
    /// A JSON-text parameter, parsed (validation made sure it parses).
    fn json(&self, k: &str) -> Option<Value> {
        self.s(k).and_then(|s| serde_json::from_str(s).ok())
    }
    fn object(&self, k: &str) -> Result<Map<String, Value>, ApiErr> {
        match self.json(k) {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(ApiErr::bad(
                "invalidParameter",
                format!("{k} must hold a JSON object of field id to value"),
            )),
        }
    }
    fn strings(&self, k: &str) -> Vec<String> {
        match self.0.get(k) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => vec![],
        }
    }
}

fn not_found_record(id: &str) -> ApiErr {
    ApiErr::bad(
        "dataNotExist.form.instanceNotExist",
        format!("表单实例不存在:{id}"),
    )
}

fn not_found_instance(id: &str) -> ApiErr {
    ApiErr::bad(
        "dataNotExist.process.instanceNotExist",
        format!("流程实例不存在:{id}"),
    )
}

/// Checks `appType`, `systemToken` and `userId` against the seed.
fn check_context(seed: &Seed, op: &Op, p: &P) -> Result<(), ApiErr> {
    if let Some(app_type) = p.s("appType") {
        let app = seed
            .apps
            .iter()
            .find(|a| a.app_type == app_type)
            .ok_or_else(|| {
                ApiErr::bad(
                    "dataNotExist.app.appNotExist",
                    format!("应用编码不存在:{app_type}"),
                )
            })?;
        if op.params.iter().any(|x| x.name == "systemToken")
            && p.s("systemToken") != Some(&app.system_token)
        {
            return Err(ApiErr::bad(
                "invalidParameter.systemToken.invalid",
                "systemToken 与应用不匹配 (the systemToken does not belong to this appType)",
            ));
        }
    }
    if let Some(user) = p.s("userId") {
        if seed.user(user).is_none() {
            return Err(ApiErr::bad(
                "dataNotExist.user.userNotExist",
                format!("操作用户不存在:{user}"),
            ));
        }
    }
    Ok(())
}

impl Call<'_> {
    /// The form the call's `formUuid` names (in the call's app, when it names one).
    fn form(&self) -> Result<&Form, ApiErr> {
        form(&self.seed, &self.p, self.p.req("formUuid")?)
    }
}

fn form<'a>(seed: &'a Seed, p: &P, uuid: &str) -> Result<&'a Form, ApiErr> {
    let f = seed
        .form(uuid)
        .ok_or_else(|| ApiErr::bad("dataNotExist.form.notExists", format!("表单不存在:{uuid}")))?;
    if let Some(app) = p.s("appType") {
        if f.app_type != app {
            return Err(ApiErr::bad(
                "dataNotExist.form.notExists",
                format!("表单不存在:{uuid}"),
            ));
        }
    }
    Ok(f)
}

fn page(p: &P, page_key: &str) -> Result<(usize, usize, i64), ApiErr> {
    let number = p.i(page_key).unwrap_or(1);
    let size = p.i("pageSize").unwrap_or(10);
    if size > 100 {
        return Err(ApiErr::bad(
            "pageSize.exceeds",
            "pageSize must not exceeds 100",
        ));
    }
    if size < 1 {
        return Err(ApiErr::bad("pageSize.invalid", "illegal pageSize"));
    }
    if number < 1 {
        return Err(ApiErr::bad(
            "invalidParameter",
            format!("{page_key} must be 1 or more"),
        ));
    }
    let start = ((number - 1) as usize).saturating_mul(size as usize);
    Ok((start, size as usize, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_one_operation_of_this_build() {
        let mut seen = std::collections::HashSet::new();
        for id in emulated() {
            assert!(seen.insert(id), "{id} twice");
            assert!(id.meta().is_some(), "{id}: its area is not compiled in");
        }
    }
}

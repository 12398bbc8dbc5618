//! Typed records (`#[derive(YidaForm)]`) and the raw JSON path against the emulator over
//! loopback HTTP: what goes over the wire is what Yida takes, what comes back reads into the
//! same values, and update sends only what changed.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yida_api::form_values::{self, DateMs, Members, Table};
use yida_api::{Client, GetFormDataByIdV2Request, SaveFormDataV2Request, YidaForm};
use yida_emulator::Emulator;

#[derive(YidaForm, Debug, Clone, PartialEq)]
struct Item {
    #[yida(id = "textField_item")]
    item: Option<String>,
}

#[derive(YidaForm, Debug, Clone, PartialEq)]
#[yida(form = "FORM-DEMO")]
struct Request {
    #[yida(id = "textField_title")]
    title: String,
    #[yida(id = "numberField_amount")]
    amount: Option<f64>,
    #[yida(id = "dateField_due")]
    due: Option<DateMs>,
    #[yida(id = "selectField_kind")]
    kind: Option<String>,
    #[yida(id = "multiSelectField_tags")]
    tags: Vec<String>,
    #[yida(id = "employeeField_owner")]
    owner: Members,
    #[yida(id = "tableField_items")]
    items: Table<Item>,
    #[yida(extra)]
    extra: serde_json::Map<String, serde_json::Value>,
}

async fn client(emu: &Emulator) -> Client {
    Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())
        .unwrap()
        .context(emu.app_context())
        .build()
        .unwrap()
}

fn sample() -> Request {
    Request {
        title: "Laptop".into(),
        amount: Some(1200.5),
        due: Some(DateMs(1_700_000_000_000)),
        kind: Some("IT".into()),
        tags: vec!["urgent".into(), "hw".into()],
        owner: Members::from(["demo-manager"]),
        items: vec![
            Item {
                item: Some("pen".into()),
            },
            Item { item: None },
        ]
        .into(),
        extra: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derive_path_round_trips_and_updates_only_changed_fields() {
    let emu = Emulator::start().await.unwrap();
    let client = client(&emu).await;
    let forms = client.typed::<Request>();

    let id = forms.save(&sample()).await.unwrap();
    // On the wire: ids for members, epoch ms for the date, rows as objects.
    let stored = emu.records("FORM-DEMO");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].data["employeeField_owner"],
        json!(["demo-manager"])
    );
    assert_eq!(stored[0].data["dateField_due"], json!(1_700_000_000_000i64));
    assert_eq!(
        stored[0].data["tableField_items"],
        json!([{"textField_item": "pen"}, {}])
    );

    let mut rec = forms.get(&id).await.unwrap();
    // The reply carried names under the field id and ids under `_id`: both are kept.
    assert_eq!(rec.owner.ids().collect::<Vec<_>>(), ["demo-manager"]);
    assert_eq!(rec.owner.names().collect::<Vec<_>>(), ["经理"]);
    let mut want = sample();
    want.owner = rec.owner.clone();
    want.extra = rec.extra.clone();
    assert_eq!(rec.value, want);

    // Nothing changed: nothing is sent.
    assert_eq!(forms.update(&mut rec).await.unwrap(), 0);
    assert_eq!(emu.records("FORM-DEMO")[0].log.len(), 1);

    // One field changed: only it goes over the wire; members stay ids.
    rec.title = "Laptop 2".into();
    assert_eq!(forms.update(&mut rec).await.unwrap(), 1);
    let stored = emu.records("FORM-DEMO");
    let last = stored[0].log.last().unwrap();
    assert_eq!(last.kind, "UPDATE");
    assert_eq!(
        serde_json::Value::Object(last.values.clone()),
        json!({"textField_title": "Laptop 2"})
    );
    assert_eq!(
        stored[0].data["employeeField_owner"],
        json!(["demo-manager"])
    );

    // Typed search: by member id and by number range.
    let mut other = sample();
    other.title = "Desk".into();
    other.amount = Some(300.0);
    other.owner = Members::from(["demo-user"]);
    forms.save(&other).await.unwrap();
    let found = forms
        .search(RequestSearch::new().owner_any_of(["demo-manager"]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].title, "Laptop 2");
    let cheap = forms
        .search(RequestSearch::new().amount_between(0.0, 500.0))
        .await
        .unwrap();
    assert_eq!(
        cheap.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
        ["Desk"]
    );
    assert_eq!(forms.search(RequestSearch::new()).await.unwrap().len(), 2);

    forms.delete(&id).await.unwrap();
    assert_eq!(emu.records("FORM-DEMO").len(), 1);
    assert!(forms.get(&id).await.is_err());
}

/// The raw JSON path: plain serde types, `decode_form` joining the companion keys.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Plain {
    #[serde(rename = "textField_title")]
    title: String,
    #[serde(rename = "employeeField_owner")]
    owner: Members,
    #[serde(rename = "dateField_due")]
    due: DateMs,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_json_path_reads_back_what_it_wrote() {
    let emu = Emulator::start().await.unwrap();
    let client = client(&emu).await;
    let value = Plain {
        title: "Chair".into(),
        owner: Members::from(["demo-manager", "demo-user"]),
        due: DateMs(1_600_000_000_000),
    };
    let saved = client
        .send(SaveFormDataV2Request::new("FORM-DEMO", &value))
        .await
        .unwrap();
    let id = saved.result.unwrap();
    let reply = client
        .send(GetFormDataByIdV2Request::new(&id))
        .await
        .unwrap();
    let data = reply.form_data.unwrap();
    // Decoded as it is, the member list holds the names (the bug typed values prevent) ...
    let naive: Plain = data.decode().unwrap();
    assert_eq!(naive.owner.ids().collect::<Vec<_>>(), ["经理", "演示用户"]);
    // ... joined with the `_id` companion, it holds the ids, and writes back unchanged.
    let back: Plain = form_values::decode_form(&data).unwrap();
    assert_eq!(
        back.owner.ids().collect::<Vec<_>>(),
        ["demo-manager", "demo-user"]
    );
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&value).unwrap()
    );
}

use yida_api::form_values::{Members, Table};
use yida_api::YidaForm;

#[derive(YidaForm)]
struct Item {
    #[yida(id = "textField_item")]
    item: Option<String>,
}

#[derive(YidaForm)]
#[yida(form = "FORM-OK")]
struct Order {
    #[yida(id = "textField_title")]
    title: String,
    #[yida(id = "employeeField_owner")]
    owner: Members,
    #[yida(id = "tableField_items")]
    items: Table<Item>,
    #[yida(id = "customThing_x", kind = "NumberField")]
    custom: Option<f64>,
    #[yida(extra)]
    extra: serde_json::Map<String, serde_json::Value>,
}

fn main() {
    let s = OrderSearch::new().title_contains("a").owner_any_of(["u1"]).custom_between(1.0, 2.0);
    let _ = yida_api::typed::Search::from(s);
}

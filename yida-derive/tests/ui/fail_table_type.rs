#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "tableField_items")]
    items: Vec<String>,
}
fn main() {}

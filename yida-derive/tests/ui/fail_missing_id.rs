#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "textField_title")]
    title: String,
    amount: Option<f64>,
}
fn main() {}

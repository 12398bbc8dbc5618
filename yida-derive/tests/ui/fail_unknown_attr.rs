#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "textField_title", rename = "x")]
    title: String,
}
fn main() {}

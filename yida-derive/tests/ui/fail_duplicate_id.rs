#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "textField_title")]
    title: String,
    #[yida(id = "textField_title")]
    again: String,
}
fn main() {}

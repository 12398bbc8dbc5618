#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "textField_title", kind = "TextBox")]
    title: String,
}
fn main() {}

#[derive(yida_api::YidaForm)]
#[yida(form = "APP_123")]
struct Order {
    #[yida(id = "textField_title")]
    title: String,
}
fn main() {}

#[derive(yida_api::YidaForm)]
struct Order {
    #[yida(id = "employeeField_owner_id")]
    owner: Vec<String>,
}
fn main() {}

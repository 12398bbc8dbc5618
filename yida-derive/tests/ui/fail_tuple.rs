#[derive(yida_api::YidaForm)]
struct Order(String);
fn main() {}

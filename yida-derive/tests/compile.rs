//! Misuse of `#[derive(YidaForm)]` is a compile error naming the field and the attribute.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}

//! All naming goes through here: wire names to Rust identifiers, keyword escaping, checks.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];
/// Keywords that cannot be raw identifiers.
const RESERVED: &[&str] = &["self", "Self", "super", "crate", "_"];

/// True for names DingTalk could plausibly use on the wire: ASCII letters, digits and `_`,
/// not starting with a digit.
pub fn is_wire_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for a PascalCase identifier (what heck would produce for it).
pub fn type_name_ok(s: &str) -> bool {
    is_wire_name(s)
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && !s.contains('_')
        && !RESERVED.contains(&s)
}

/// True for a snake_case identifier.
pub fn snake_ident_ok(s: &str) -> bool {
    is_wire_name(s) && s.to_snake_case() == s && !KEYWORDS.contains(&s) && !RESERVED.contains(&s)
}

/// The Rust field (and setter) name for a wire name; keywords become raw identifiers.
pub fn rust_field_name(wire: &str) -> Result<String, String> {
    if !is_wire_name(wire) {
        return Err(format!("`{wire}` is not a valid name"));
    }
    let snake = wire.to_snake_case();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`{wire}` does not give a Rust identifier"));
    }
    if RESERVED.contains(&snake.as_str()) {
        return Err(format!("`{wire}` becomes the reserved word `{snake}`"));
    }
    if KEYWORDS.contains(&snake.as_str()) {
        return Ok(format!("r#{snake}"));
    }
    Ok(snake)
}

/// The one naming rule for operations: the action in snake_case (acronyms folded:
/// `GetFormDataByID` → `get_form_data_by_id`), with `_v2` for API 2.0; the request type is
/// the same words in PascalCase plus `Request` (`GetFormDataByIdV2Request`).
pub fn op_names(action: &str, version: &str) -> crate::ir::OpNames {
    let mut method = action.to_snake_case();
    if let Some(major) = version.strip_suffix(".0").filter(|m| *m != "1") {
        method.push_str("_v");
        method.push_str(major);
    }
    crate::ir::OpNames {
        request: format!("{}Request", method.to_upper_camel_case()),
        method,
    }
}

/// PascalCase of a snake_case area name (`form_meta` → `FormMeta`).
pub fn area_type_name(area: &str) -> String {
    area.to_upper_camel_case()
}

/// PascalCase Rust name for a wire name or value (`outResult` → `OutResult`, `zh_CN` → `ZhCn`).
pub fn pascal(s: &str) -> String {
    s.to_upper_camel_case()
}

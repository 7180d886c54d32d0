//! Rust names for spec names: the one place identifiers are derived.

use heck::{ToPascalCase, ToSnakeCase};

/// Converts a component schema name into the Rust type name typify gives it.
pub fn type_name(schema: &str) -> String {
    schema.replace('\'', "").to_pascal_case()
}

/// A Rust identifier for a wire name: snake_case, never a keyword.
pub fn field_name(name: &str) -> String {
    let mut field: String = name
        .to_snake_case()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if field.is_empty() || field.starts_with(|c: char| c.is_ascii_digit()) {
        field.insert(0, '_');
    }
    if syn::parse_str::<syn::Ident>(&field).is_err() {
        field.push('_');
    }
    field
}

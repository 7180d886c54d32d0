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
    if !is_ident(&field) {
        field.push('_');
    }
    field
}

/// Whether `name` is, exactly, a plain (not raw) identifier that is not a
/// keyword: what `syn` accepts as an `Ident` and `Ident::new` takes.
///
/// ASCII names, all of them in practice, are decided here without
/// tokenizing; others go through `syn`.
pub fn is_ident(name: &str) -> bool {
    if !name.is_ascii() {
        return syn::parse_str::<syn::Ident>(name).is_ok_and(|i| i == name)
            && !name.starts_with("r#");
    }
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !is_keyword(name)
}

/// Words `syn` refuses as identifiers (its `accept_as_ident`): the strict
/// and reserved keywords of the Rust reference, and `_`. Sorted by byte.
const KEYWORDS: &[&str] = &[
    "Self", "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

fn is_keyword(name: &str) -> bool {
    KEYWORDS.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names at every edge: keywords (incl. the ones that cannot be raw),
    /// their near misses, raw spellings, digits, punctuation, whitespace,
    /// comments and non-ASCII.
    const TRICKY: &[&str] = &[
        "",
        "_",
        "__",
        "_1",
        "1",
        "1a",
        "a1",
        "a",
        "A",
        "id",
        "type",
        "Type",
        "r#type",
        "r#foo",
        "r#self",
        "self",
        "Self",
        "crate",
        "super",
        "selfish",
        "self_",
        "fn",
        "async",
        "await",
        "dyn",
        "try",
        "yield",
        "gen",
        "union",
        "macro_rules",
        "static",
        "abstract",
        "become",
        "final",
        "typeof",
        "unsized",
        "virtual",
        "do",
        "priv",
        "override",
        "box",
        "true",
        "false",
        "loop",
        "where",
        "a-b",
        "a.b",
        "a b",
        " a",
        "a ",
        "a\n",
        "a/*c*/",
        "a//c",
        "a::b",
        "'a",
        "a'",
        "#",
        "$ref",
        "@odata",
        "é",
        "café",
        "Ωmega",
        "日本",
        "a\u{301}",
        "_é",
        "1é",
        "é-x",
        "x\u{200b}",
        "\u{200b}",
        "🦀",
        "r#é",
        "ß",
    ];

    /// The independent oracle: `syn` tokenizes the name and accepts one
    /// plain identifier spelled exactly as given.
    fn oracle(name: &str) -> bool {
        syn::parse_str::<syn::Ident>(name).is_ok_and(|i| i == name) && !name.starts_with("r#")
    }

    #[test]
    fn is_ident_agrees_with_syn_on_tricky_names() {
        for name in TRICKY {
            assert_eq!(is_ident(name), oracle(name), "{name:?}");
        }
    }

    #[test]
    fn is_ident_agrees_with_syn_on_every_short_ascii_word() {
        let alphabet = b"aeflnrstyzAS_1#";
        let mut words = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |&c| format!("{w}{}", c as char)))
                .collect();
            words.extend(longer);
        }
        words.sort();
        words.dedup();
        for name in &words {
            assert_eq!(is_ident(name), oracle(name), "{name:?}");
        }
    }

    #[test]
    fn every_keyword_of_syn_is_refused() {
        let keywords = "abstract as async await become box break const continue crate do \
                        dyn else enum extern false final fn for if impl in let loop macro \
                        match mod move mut override priv pub ref return Self self static \
                        struct super trait true try type typeof unsafe unsized use virtual \
                        where while yield _";
        for kw in keywords.split_whitespace() {
            assert!(!oracle(kw), "syn takes {kw:?}");
            assert!(!is_ident(kw), "{kw:?}");
            assert_eq!(field_name(kw), format!("{kw}_").to_lowercase());
        }
        for kw in KEYWORDS {
            assert!(!oracle(kw), "syn takes {kw:?}, a word we refuse");
        }
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]), "unsorted");
    }
}

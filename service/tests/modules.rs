//! No module of `service/src` imports a module that imports it back.
//!
//! The module tree is read from the file layout (`a.rs`, `a/b.rs`,
//! `a/mod.rs`); an edge is any path in a module's code that names another
//! module of the crate: `use` trees and paths in expressions, starting at
//! `crate::`, `super::`, `self::` or the name of a child module. Comments,
//! string literals and the trailing `#[cfg(test)]` module are left out (a
//! test module importing its parent's items is no dependency of the code).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from the crate root (`["store", "sqlite"]`).
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Other,
}

/// The tokens of Rust source that matter for paths, without comments,
/// strings and character literals.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            'r' if matches!(next, Some('#' | '"')) && !prev_is_ident(&chars, i) => {
                let mut hashes = 0;
                let mut j = i + 1;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    // `r#ident`: a raw identifier.
                    i = j;
                    continue;
                }
                j += 1;
                let closing: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let rest: String = chars[j..].iter().collect();
                let end = rest
                    .find(&closing)
                    .map_or(rest.len(), |e| e + closing.len());
                i = j + rest[..end].chars().count();
            }
            '\'' => {
                // A character literal ('x', '\n', '\u{..}'), or a lifetime.
                if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else if next == Some('\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    i += 1;
                }
            }
            ':' if next == Some(':') => {
                out.push(Token::PathSep);
                i += 2;
            }
            '{' => {
                out.push(Token::Open);
                i += 1;
            }
            '}' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            ';' => {
                out.push(Token::Semi);
                i += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            c if c.is_whitespace() => i += 1,
            _ => {
                out.push(Token::Other);
                i += 1;
            }
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Every path written in `tokens`, `use` trees expanded (`use a::{b, c::d}`
/// gives `a::b` and `a::c::d`).
fn paths(tokens: &[Token]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Ident(word) if word == "use" => {
                i = use_tree(tokens, i + 1, Vec::new(), &mut out);
            }
            Token::Ident(_) if i == 0 || tokens[i - 1] != Token::PathSep => {
                let mut path = Vec::new();
                while let Some(Token::Ident(segment)) = tokens.get(i) {
                    path.push(segment.clone());
                    if tokens.get(i + 1) != Some(&Token::PathSep) {
                        break;
                    }
                    i += 2;
                }
                if path.len() > 1 {
                    out.push(path);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Reads one use tree from `i` under `prefix`; returns where it ends.
fn use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    loop {
        match tokens.get(i) {
            Some(Token::Ident(segment)) if segment == "as" => {
                i += 2; // `as name`
            }
            Some(Token::Ident(segment)) => {
                path.push(segment.clone());
                i += 1;
            }
            Some(Token::PathSep) => i += 1,
            Some(Token::Open) => {
                i += 1;
                loop {
                    i = use_tree(tokens, i, path.clone(), out);
                    match tokens.get(i) {
                        Some(Token::Comma) => i += 1,
                        Some(Token::Close) => return i + 1,
                        _ => return i,
                    }
                    if tokens.get(i) == Some(&Token::Close) {
                        return i + 1;
                    }
                }
            }
            _ => {
                out.push(path);
                return i;
            }
        }
    }
}

/// The modules of the crate rooted at `src/lib.rs`, each with its source
/// file.
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut segments: ModPath = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            match segments.last().map(String::as_str) {
                Some("lib") if segments.len() == 1 => segments.clear(),
                // The binary is a crate of its own, over this library.
                Some("main") if segments.len() == 1 => continue,
                Some("mod") => {
                    segments.pop();
                }
                _ => {}
            }
            found.insert(segments, path);
        }
    }
    found
}

/// The module `path` (written in module `from`) points into, if it is one
/// of `known` and not `from` itself or the crate root.
fn target(from: &ModPath, path: &[String], known: &BTreeMap<ModPath, PathBuf>) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = path;
    match rest.first().map(String::as_str)? {
        "crate" => {
            base = Vec::new();
            rest = &rest[1..];
        }
        "self" => {
            base = from.clone();
            rest = &rest[1..];
        }
        "super" => {
            base = from.clone();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        child => {
            let mut candidate = from.clone();
            candidate.push(child.to_string());
            if !known.contains_key(&candidate) {
                return None; // Another crate, or an item.
            }
            base = from.clone();
        }
    }
    for segment in rest {
        let mut deeper = base.clone();
        deeper.push(segment.clone());
        if !known.contains_key(&deeper) {
            break;
        }
        base = deeper;
    }
    (!base.is_empty() && &base != from).then_some(base)
}

/// Module → the modules it names.
fn graph(src: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let known = modules(src);
    let mut edges = BTreeMap::new();
    for (module, file) in &known {
        let source = std::fs::read_to_string(file).expect("read module");
        let code = source
            .split("\n#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .split("\n#[cfg(all(test")
            .next()
            .unwrap_or_default();
        let targets = paths(&tokens(code))
            .iter()
            .filter_map(|p| target(module, p, &known))
            .collect();
        edges.insert(module.clone(), targets);
    }
    edges
}

/// A cycle of the graph (its modules in order, the first repeated last),
/// if there is one.
fn cycle(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        trail: &mut Vec<ModPath>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = trail.iter().position(|n| n == node).unwrap();
                let mut found: Vec<String> = trail[start..].iter().map(|m| m.join("::")).collect();
                found.push(node.join("::"));
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        trail.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, marks, trail) {
                return Some(found);
            }
        }
        trail.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut marks, &mut Vec::new()))
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    // The reader sees the imports it must see (a check that finds nothing
    // proves nothing).
    let names = |m: &str| m.split("::").map(str::to_string).collect::<ModPath>();
    for (from, to) in [
        ("api", "cache"),
        ("cache", "store"),
        ("cache::single", "wire"),
        ("cache", "cache::single"),
        ("store::sqlite", "store::sqlite::writer"),
        ("auth::jwt", "auth::identity"),
    ] {
        assert!(
            edges[&names(from)].contains(&names(to)),
            "{from} -> {to} not seen: {:?}",
            edges[&names(from)]
        );
    }
    assert_eq!(
        cycle(&edges),
        None,
        "a module imports a module that imports it back"
    );
}

/// The check on a planted cycle: two siblings, and a parent and its child.
#[test]
fn a_planted_cycle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write(
        "a.rs",
        "//! uses crate::b in a comment only\nuse crate::c::X;\n",
    );
    write("b.rs", "pub fn f() { let _ = \"crate::a\"; }\n");
    write("c.rs", "pub mod d;\npub struct X;\n");
    write(
        "c/d.rs",
        "use super::super::a;\n#[cfg(test)]\nmod tests { use crate::b; }\n",
    );
    assert_eq!(
        cycle(&graph(src)),
        None,
        "comments, strings and tests are no imports"
    );

    write("b.rs", "use crate::{c::d, a};\n");
    write("c.rs", "pub mod d;\npub fn g() { d::h() }\n");
    write("c/d.rs", "pub fn h() { crate::b::f() }\n");
    let found = cycle(&graph(src)).expect("b -> c::d -> b");
    assert_eq!(found.first(), found.last(), "{found:?}");
    assert!(found.contains(&"b".to_string()), "{found:?}");

    write("c/d.rs", "pub fn h() {}\nuse super::g;\n");
    write("b.rs", "\n");
    let found = cycle(&graph(src)).expect("c -> c::d -> c");
    assert_eq!(found, ["c", "c::d", "c"]);
}

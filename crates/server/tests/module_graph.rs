//! The server's modules import one another in one direction only: no file imports a
//! file that imports it back, and no folder a folder that imports it back (the edges
//! call the application layer, the engine runs on it, both use the shared
//! infrastructure; nothing points back up, and no module imports the crate root).
//!
//! Read from the source: every `crate::…`, `super::…` and `self::…` path (in `use`
//! declarations, grouped ones included, and inline), resolved to the longest module it
//! names. Comments are left out; `mod x;` declarations are not imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module of the crate by its path below the root (`["http", "api", "incidents"]`);
/// the root itself is `[]`. `mod.rs` files are the folder's module.
type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(root: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(root).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// The code without comments and without the contents of string literals.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push('"');
            }
            // A char literal such as '"' or '{' (lifetimes have no closing quote).
            '\'' => {
                out.push('\'');
                let rest: String = chars.clone().take(3).collect();
                let mut it = rest.chars();
                match (it.next(), it.next(), it.next()) {
                    (Some('\\'), Some(_), Some('\'')) => {
                        chars.nth(2);
                    }
                    (Some(_), Some('\''), _) => {
                        chars.nth(1);
                    }
                    _ => {}
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Expands a `use` tree (`crate::a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path in `code` that starts at `crate`, `super` or `self`, as written.
fn paths(code: &str) -> Vec<(usize, String)> {
    let mut found = vec![];
    // `use` declarations, grouped ones expanded.
    let mut rest = code;
    let mut offset = 0;
    while let Some(at) = rest.find("use ") {
        let starts_word = at == 0 || !is_ident(rest[..at].chars().last().unwrap());
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        if starts_word {
            for path in expand(&rest[at + 4..end]) {
                let path = path.split(" as ").next().unwrap_or(&path).to_owned();
                found.push((offset + at, path));
            }
            offset += end;
            rest = &code[offset..];
        } else {
            offset += at + 4;
            rest = &code[offset..];
        }
    }
    // Inline paths: `crate::a::b(...)`, `super::c`.
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(root) {
            let at = from + at;
            from = at + root.len();
            if at > 0 && is_ident(code[..at].chars().last().unwrap()) {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(is_ident(c) || c == ':'))
                .map_or(code.len(), |e| at + e);
            found.push((at, code[at..end].trim_end_matches(':').to_owned()));
        }
    }
    found
}

/// Where inline `mod name { … }` blocks (tests) are, so that `super` inside them means
/// the file's own module.
fn inline_modules(code: &str) -> Vec<(usize, usize)> {
    let mut blocks = vec![];
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ") {
        let at = from + at;
        from = at + 4;
        let head_end = code[at..].find(['{', ';']).map_or(code.len(), |e| at + e);
        if code[head_end..].starts_with('{') {
            let mut depth = 0;
            for (i, c) in code[head_end..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            blocks.push((head_end, head_end + i));
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    blocks
}

/// The module a path names: the longest of its prefixes that is a module.
fn resolve(
    module: &Module,
    inline: bool,
    path: &str,
    modules: &BTreeSet<Module>,
) -> Option<Module> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Module = match *segments.first()? {
        "crate" => vec![],
        "self" => module.clone(),
        "super" => {
            let mut base = module.clone();
            if !inline {
                base.pop();
            }
            base
        }
        _ => return None,
    };
    segments.remove(0);
    for segment in segments {
        match segment {
            "super" => {
                base.pop();
            }
            "*" | "self" => {}
            name => {
                let mut next = base.clone();
                next.push(name.to_owned());
                if !modules.contains(&next) {
                    break;
                }
                base = next;
            }
        }
    }
    Some(base)
}

/// The imports between the crate's modules, each once.
fn module_graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    source_files(&root, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&root, file);
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let blocks = inline_modules(&code);
        let imports = graph.entry(module.clone()).or_default();
        for (at, path) in paths(&code) {
            let inline = blocks.iter().any(|(s, e)| *s < at && at < *e);
            if let Some(target) = resolve(&module, inline, &path, &modules) {
                if target != module {
                    imports.insert(target);
                }
            }
        }
    }
    graph
}

/// The groups of nodes that reach one another (strongly connected, more than one node).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for next in graph.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n))).collect();
    let mut groups: Vec<BTreeSet<String>> = vec![];
    for (n, from_n) in &reached {
        if !from_n.contains(*n) || groups.iter().any(|g| g.contains(*n)) {
            continue;
        }
        let group: BTreeSet<String> = from_n
            .iter()
            .filter(|m| reached.get(m).is_some_and(|r| r.contains(*n)))
            .cloned()
            .collect();
        groups.push(group);
    }
    groups
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "crate (lib.rs)".to_owned()
    } else {
        module.join("::")
    }
}

/// At `depth`, the node a module counts as among its siblings: the child of its
/// parent folder it lies in. A folder's own `mod.rs` is a node of its own among its
/// children; modules outside the folder do not take part.
fn node_at(module: &Module, parent: &[String], depth: usize) -> Option<String> {
    if module.len() < depth - 1 || module[..depth - 1] != *parent {
        return None;
    }
    Some(match module.get(depth - 1) {
        Some(child) => name(
            &module[..depth - 1]
                .iter()
                .chain([child])
                .cloned()
                .collect::<Vec<_>>(),
        ),
        None => format!("{} (its mod.rs)", name(module)),
    })
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let graph = module_graph();
    assert!(
        graph.len() > 30,
        "the source was read: {} modules",
        graph.len()
    );
    let mut found = vec![];
    // Files: any cycle at all.
    let files: BTreeMap<String, BTreeSet<String>> = graph
        .iter()
        .map(|(m, to)| (name(m), to.iter().map(|t| name(t)).collect()))
        .collect();
    for cycle in cycles(&files) {
        found.push(format!("files {cycle:?}"));
    }
    // Folders: the children of each folder (files and sub-folders), and the top level.
    let parents: BTreeSet<Module> = graph
        .keys()
        .flat_map(|m| (0..m.len()).map(|d| m[..d].to_vec()))
        .collect();
    for parent in &parents {
        let depth = parent.len() + 1;
        let mut level: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in &graph {
            let Some(a) = node_at(from, parent, depth) else {
                continue;
            };
            let edges = level.entry(a.clone()).or_default();
            for target in to {
                if let Some(b) = node_at(target, parent, depth).filter(|b| *b != a) {
                    edges.insert(b);
                }
            }
        }
        for cycle in cycles(&level) {
            found.push(format!("in {}: {cycle:?}", name(parent)));
        }
    }
    // Nothing imports the crate root: it wires the parts together.
    for (from, to) in &graph {
        if to.contains(&vec![]) {
            found.push(format!("{} imports the crate root", name(from)));
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn use_trees_and_paths_are_read() {
    assert_eq!(
        expand("crate::a::{b, c::{d, e}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
    let code =
        code_only("use crate::x::{y, z}; // crate::no\nfn f() { crate::w::v(\"crate::q\"); }");
    let found: Vec<String> = paths(&code).into_iter().map(|(_, p)| p).collect();
    assert!(found.contains(&"crate::x::y".to_owned()), "{found:?}");
    assert!(found.contains(&"crate::w::v".to_owned()), "{found:?}");
    assert!(
        !found.iter().any(|p| p.contains("no") || p.contains('q')),
        "{found:?}"
    );
}

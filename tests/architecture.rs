//! The layout's rules, read from the source: which module may use which (ARCHITECTURE.md).
//!
//! A module is a top-level file (`src/config.rs`) or a file of a folder (`src/pipeline/reply.rs`;
//! a folder's `mod.rs` is the folder itself). Each `crate::a::b` path and each `super::b` path in
//! a module's code (its tests aside) is an arrow to the module it names. The arrows must form no
//! circle, and the lower layers must not point up the flow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules it uses.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every module of `src/`, by name (`pipeline::reply`, `config`, `pipeline` for its mod.rs).
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            // Deeper files count as their folder at the second level.
            parts.truncate(2);
            let code = std::fs::read_to_string(&path).unwrap();
            found
                .entry(parts.join("::"))
                .and_modify(|c: &mut String| c.push_str(&code))
                .or_insert(code);
        }
    }
    found
}

/// The code without comment lines and without its `#[cfg(test)]` items (a test module's block
/// found by its braces, string and character literals skipped).
fn code_only(code: &str) -> String {
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        rest = match item.find('{') {
            Some(open) => &item[open + block_end(&item[open..])..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The length of the brace block `text` starts with.
fn block_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'"' => {
                // A raw string's hashes close it; an ordinary one ends at an unescaped quote.
                let hashes = text[..i].chars().rev().take_while(|&c| c == '#').count();
                let raw = text[..i - hashes].ends_with('r');
                i += 1;
                while i < bytes.len() {
                    if !raw && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == b'"' && text[i + 1..].starts_with(&"#".repeat(hashes)) {
                        i += hashes;
                        break;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                // A character literal ('{', '\\'), not a lifetime.
                if let Some(end) = text[i + 1..]
                    .char_indices()
                    .take(3)
                    .find(|(j, c)| *c == '\'' && *j > 0)
                {
                    i += end.0 + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The module a path names, given the known modules: `a::b` when that is one, else `a`.
fn target(known: &BTreeMap<String, String>, first: &str, second: Option<&str>) -> Option<String> {
    if let Some(second) = second {
        let both = format!("{first}::{second}");
        if known.contains_key(&both) {
            return Some(both);
        }
    }
    known.contains_key(first).then(|| first.to_owned())
}

fn graph(src: &Path) -> Graph {
    let known = modules(src);
    let crate_path = "crate::";
    let mut graph = Graph::new();
    for (name, code) in &known {
        let code = code_only(code);
        let parent = name.split_once("::").map(|(p, _)| p);
        let mut uses = BTreeSet::new();
        for (start, _) in code.match_indices(crate_path) {
            let rest = &code[start + crate_path.len()..];
            let mut words = rest.split("::").map(|w| {
                w.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            });
            let first = words.next().unwrap_or("");
            let second = words.next();
            if let Some(t) = target(&known, first, second) {
                uses.insert(t);
            }
        }
        // `super::x` in a folder's file names a sibling, or the folder's mod.rs.
        if let Some(parent) = parent {
            for (start, _) in code.match_indices("super::") {
                let word: String = code[start + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                uses.insert(target(&known, parent, Some(&word)).unwrap());
            }
        }
        // A folder's mod.rs using its own files (`pub use worker::run`).
        if !name.contains("::") {
            for line in code
                .lines()
                .filter(|l| l.trim_start().starts_with("pub use "))
            {
                let word: String = line
                    .trim_start()
                    .trim_start_matches("pub use ")
                    .trim_start_matches("self::")
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if let Some(t) = target(&known, name, Some(&word)).filter(|t| t != name) {
                    uses.insert(t);
                }
            }
        }
        uses.remove(name);
        graph.insert(name.clone(), uses);
    }
    graph
}

/// The circles of the graph: its strongly connected components of more than one module
/// (Tarjan's algorithm).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

#[test]
fn no_module_uses_itself_through_others() {
    let graph = graph(&src());
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "circles among modules:\n{}",
        found
            .iter()
            .map(|c| format!("  {}", c.join(" <-> ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The flow runs receive → intake → pipeline → store → relay / archive: the store, the relay
/// and the archive know nothing of the pipeline or the receiver, and the pure core (domain,
/// mail) knows only the configuration and itself.
#[test]
fn arrows_follow_the_flow() {
    let graph = graph(&src());
    let rules: &[(&[&str], &[&str])] = &[
        (
            &["store", "relay", "archive"],
            &["pipeline", "inbound", "app"],
        ),
        (
            &["domain", "mail"],
            &[
                "pipeline", "inbound", "app", "store", "relay", "archive", "auth", "metrics",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, uses) in &graph {
        for (from, forbidden) in rules {
            if from.contains(&top(name)) {
                for used in uses {
                    if forbidden.contains(&top(used)) {
                        wrong.push(format!("  {name} -> {used}"));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows against the flow:\n{}",
        wrong.join("\n")
    );
}

/// The checker itself finds a circle and an arrow it is shown.
#[test]
fn the_checker_sees_a_circle() {
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_owned()].into());
    graph.insert("b".into(), ["c".to_owned()].into());
    graph.insert("c".into(), ["a".to_owned()].into());
    graph.insert("d".into(), ["a".to_owned()].into());
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
}

//! The layout's rules, read from the source: which module may use which (ARCHITECTURE.md).
//!
//! A module is a top-level file (`src/config.rs`) or a file of a folder (`src/pipeline/reply.rs`;
//! a folder's `mod.rs` is the folder itself; deeper files count as their second-level folder).
//! Every path in a module's code (its tests aside) that starts with `crate`, `super` or `self`,
//! in `use` trees (groups, `self`, renames) and in expressions, is resolved against the file's
//! own module path to the module it names: an arrow. A `mod.rs` also points at the files it
//! declares. The arrows must form no circle, and the lower layers must not point up the flow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules it uses.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// A file's module path (`["pipeline", "reply"]`; `[]` for lib.rs) and its code.
struct SourceFile {
    path: Vec<String>,
    is_mod_rs: bool,
    code: String,
}

fn source_files(src: &Path) -> Vec<SourceFile> {
    let mut found = Vec::new();
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
            let is_mod_rs = parts.last().is_some_and(|p| p == "mod");
            if is_mod_rs {
                parts.pop();
            }
            if parts == ["main"] {
                continue;
            }
            if parts == ["lib"] {
                parts.clear();
            }
            found.push(SourceFile {
                path: parts,
                is_mod_rs,
                code: std::fs::read_to_string(&path).unwrap(),
            });
        }
    }
    found
}

/// The node a module path counts as: its first two components.
fn node(path: &[String]) -> String {
    path.iter().take(2).cloned().collect::<Vec<_>>().join("::")
}

/// The code without comment lines and without its `#[cfg(test)]` items (a block found by its
/// braces, string and character literals skipped; an item without a block ends at `;`).
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
        let item = &rest[at + "#[cfg(test)]".len()..];
        rest = match (item.find('{'), item.find(';')) {
            (Some(open), Some(semi)) if semi < open => &item[semi + 1..],
            (Some(open), _) => &item[open + block_end(&item[open..])..],
            (None, Some(semi)) => &item[semi + 1..],
            (None, None) => "",
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

/// Every path a `use` tree names, groups and `self` expanded: `use crate::{a, b::{self, c}}`
/// gives `crate::a`, `crate::b`, `crate::b::c`.
fn use_paths(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let item = tree.split(" as ").next().unwrap().trim();
            let path = match (prefix.is_empty(), item) {
                (_, "") => return,
                (false, "self") => prefix.trim_end_matches("::").to_owned(),
                (true, item) => item.to_owned(),
                (false, item) => format!("{prefix}{item}"),
            };
            out.push(path);
        }
        Some(open) => {
            let head = format!("{prefix}{}", &tree[..open]);
            let inner = &tree[open + 1..tree.rfind('}').unwrap()];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        use_paths(&inner[start..i], &head, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            use_paths(&inner[start..], &head, out);
        }
    }
}

/// Every path in `code` that starts with `crate`, `super` or `self`: those of `use`
/// statements expanded, and those written in place.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    let mut plain = String::new();
    while let Some(at) = rest.find("use ") {
        let starts_item = at == 0
            || rest[..at].ends_with(|c: char| c.is_whitespace() || c == ';' || c == '}')
                && !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        plain.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        if starts_item {
            use_paths(&rest[at + 4..at + end], "", &mut found);
        } else {
            plain.push_str(&rest[at..at + end + 1]);
        }
        rest = &rest[at + end + 1..];
    }
    plain.push_str(rest);
    for word in plain.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        let word = word.trim_matches(':');
        if ["crate::", "super::", "self::"]
            .iter()
            .any(|p| word.starts_with(p))
        {
            found.push(word.to_owned());
        }
    }
    found
        .into_iter()
        .filter(|p| p.starts_with("crate") || p.starts_with("super") || p.starts_with("self"))
        .collect()
}

/// The module a path names, resolved from the module `from`: `crate`, `super` and `self`
/// walked, then as many components as name modules.
fn resolve(path: &str, from: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut at: Vec<String> = Vec::new();
    let mut parts = path.split("::").peekable();
    match parts.next()? {
        "crate" => {}
        "self" => at = from.to_vec(),
        "super" => {
            at = from.to_vec();
            at.pop()?;
        }
        _ => return None,
    }
    while parts.peek() == Some(&"super") {
        parts.next();
        at.pop()?;
    }
    for part in parts {
        let mut deeper = at.clone();
        deeper.push(part.to_owned());
        if modules.contains(&deeper) {
            at = deeper;
        } else {
            break;
        }
    }
    Some(at)
}

fn graph(src: &Path) -> Graph {
    let files = source_files(src);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.path.clone()).collect();
    let mut graph = Graph::new();
    for file in files.iter().filter(|f| !f.path.is_empty()) {
        let from = node(&file.path);
        let code = code_only(&file.code);
        let mut uses = BTreeSet::new();
        for path in paths(&code) {
            if let Some(target) = resolve(&path, &file.path, &modules).filter(|t| !t.is_empty()) {
                uses.insert(node(&target));
            }
        }
        // A folder's mod.rs points at the files it declares.
        if file.is_mod_rs {
            for line in code.lines() {
                let line = line.trim();
                let declared = line
                    .strip_prefix("pub mod ")
                    .or_else(|| line.strip_prefix("pub(crate) mod "))
                    .or_else(|| line.strip_prefix("mod "))
                    .and_then(|rest| rest.strip_suffix(';'));
                if let Some(name) = declared {
                    let mut child = file.path.clone();
                    child.push(name.to_owned());
                    uses.insert(node(&child));
                }
            }
        }
        uses.remove(&from);
        graph.entry(from).or_default().extend(uses);
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

/// What each stage may use besides itself: the flow, receive → intake → pipeline → store →
/// relay / archive, with the pure core (domain, mail, config) under everything.
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &["config", "mail"]),
    ("mail", &["config", "domain"]),
    ("clock", &[]),
    ("metrics", &[]),
    ("store", &["config", "domain", "mail", "clock"]),
    (
        "relay",
        &["store", "config", "domain", "mail", "clock", "metrics"],
    ),
    (
        "archive",
        &["store", "config", "domain", "mail", "clock", "metrics"],
    ),
    (
        "pipeline",
        &[
            "store", "relay", "config", "domain", "mail", "clock", "metrics",
        ],
    ),
    (
        "inbound",
        &[
            "store", "relay", "config", "domain", "mail", "clock", "metrics",
        ],
    ),
    (
        "app",
        &[
            "inbound", "pipeline", "store", "relay", "archive", "config", "domain", "mail",
            "clock", "metrics",
        ],
    ),
    (
        "cli",
        &[
            "app", "inbound", "pipeline", "store", "relay", "archive", "config", "domain", "mail",
            "clock", "metrics",
        ],
    ),
];

/// The configuration checks its values with leaves of the pure core, which use nothing of it
/// back: so `config` and `domain` make no circle, though `domain::route` reads the config.
const CONFIG_MAY_USE: &[&str] = &[
    "domain::calendar",
    "domain::mailbox",
    "domain::names",
    "domain::relays",
    "domain::txt_record",
    "mail::write",
];

/// The arrows against the flow in `graph`, and modules no rule speaks of.
fn against_the_flow(graph: &Graph) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, uses) in graph {
        let from = top(name);
        for used in uses.iter().filter(|used| top(used) != from) {
            let allowed = if from == "config" {
                CONFIG_MAY_USE.contains(&used.as_str())
            } else {
                MAY_USE
                    .iter()
                    .find(|(stage, _)| *stage == from)
                    .is_some_and(|(_, may)| may.contains(&top(used)))
            };
            if !allowed {
                wrong.push(format!("  {name} -> {used}"));
            }
        }
    }
    wrong
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

/// The flow runs receive → intake → pipeline → store → relay / archive: each stage uses only
/// what [`MAY_USE`] lists for it, so the store, the relay and the archive know nothing of the
/// pipeline or the receiver, and the pure core (domain, mail) knows only the configuration and
/// itself.
#[test]
fn arrows_follow_the_flow() {
    let wrong = against_the_flow(&graph(&src()));
    assert!(
        wrong.is_empty(),
        "arrows against the flow:\n{}",
        wrong.join("\n")
    );
}

/// The checker finds a circle, and the arrows a review showed the first checker missed:
/// a braced import, `super::super`, `self::super`, an item after a test-only `use`.
#[test]
fn the_checker_sees_what_it_is_shown() {
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_owned()].into());
    graph.insert("b".into(), ["c".to_owned()].into());
    graph.insert("c".into(), ["a".to_owned()].into());
    graph.insert("d".into(), ["a".to_owned()].into());
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);

    let modules: BTreeSet<Vec<String>> = [
        vec!["inbound"],
        vec!["store"],
        vec!["store", "outbox"],
        vec!["pipeline"],
        vec!["pipeline", "dispatch"],
        vec!["relay"],
        vec!["relay", "retry"],
        vec!["archive"],
        vec!["archive", "pages"],
        vec!["archive", "pages", "lists"],
        vec!["archive", "pages", "texts"],
    ]
    .into_iter()
    .map(|p| p.into_iter().map(str::to_owned).collect())
    .collect();
    let targets = |from: &[&str], code: &str| -> BTreeSet<String> {
        let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
        paths(&code_only(code))
            .iter()
            .filter_map(|p| resolve(p, &from, &modules))
            .map(|t| node(&t))
            .collect()
    };
    let braced = targets(&["store", "outbox"], "use crate::{inbound, pipeline};\n");
    assert!(braced.contains("pipeline"), "{braced:?}");
    let up_two = targets(
        &["relay", "retry"],
        "use super::super::pipeline::dispatch;\n",
    );
    assert!(up_two.contains("pipeline::dispatch"), "{up_two:?}");
    let self_super = targets(
        &["archive", "pages", "lists"],
        "fn f() { self::super::texts::x(); }\n",
    );
    assert!(self_super.contains("archive::pages"), "{self_super:?}");
    let after_test_use = targets(
        &["store", "outbox"],
        "#[cfg(test)]\nuse std::x;\nfn f() { crate::pipeline::process(); }\n",
    );
    assert!(after_test_use.contains("pipeline"), "{after_test_use:?}");
    let mut bad = Graph::new();
    bad.insert("store::outbox".into(), braced);
    bad.insert("config::check".into(), ["domain::route".to_owned()].into());
    bad.insert("relay::worker".into(), ["archive".to_owned()].into());
    assert_eq!(
        against_the_flow(&bad),
        [
            "  config::check -> domain::route",
            "  relay::worker -> archive",
            "  store::outbox -> inbound",
            "  store::outbox -> pipeline",
        ]
    );
}

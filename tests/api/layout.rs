//! Architecture Invariant (docs/ARCHITECTURE.md): no import cycle between the modules of a
//! crate. Each module's `use crate::...` paths (outside its unit tests) are its edges; the
//! graph of every crate must have no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 4] = [
    "crates/domain/src",
    "crates/adapters/src",
    "crates/http/src",
    "src",
];

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The module a file is (`ports`, `idempotency::key`; `mod.rs` is its folder's module).
fn module_of(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .filter(|part| part != "mod")
        .collect();
    parts.join("::")
}

/// The crate's modules and the modules each one uses.
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(root);
    let modules: BTreeSet<String> = files.iter().map(|file| module_of(root, file)).collect();
    files
        .iter()
        .map(|file| {
            let module = module_of(root, file);
            let text = std::fs::read_to_string(file).unwrap();
            // Unit tests may use anything of their crate.
            let text = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let uses = text
                .match_indices("crate::")
                .filter_map(|(at, _)| {
                    let path: String = text[at + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    // The longest prefix of the path that names a module of the crate.
                    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                    (1..=segments.len())
                        .rev()
                        .map(|length| segments[..length].join("::"))
                        .find(|candidate| modules.contains(candidate))
                })
                .filter(|used| *used != module && !module.starts_with(&format!("{used}::")))
                .collect();
            (module, uses)
        })
        .collect()
}

/// A cycle through `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            return Some(path[start..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    for root in CRATES {
        let graph = graph(&workspace.join(root));
        assert!(graph.len() > 3, "{root}: modules found: {graph:?}");
        assert_eq!(cycle(&graph), None, "{root}: an import cycle");
    }
}

/// Architecture Invariant (docs/ARCHITECTURE.md): the code map names every module of the
/// product's crates and of the bench, by its file name (`ports.rs`), or by its folder
/// (`mysql/`) for a `mod.rs`.
#[test]
fn the_code_map_names_every_module() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(workspace.join("docs/ARCHITECTURE.md")).unwrap();
    let unnamed: Vec<PathBuf> = CRATES
        .iter()
        .chain(["crates/bench/src"].iter())
        .flat_map(|root| sources(&workspace.join(root)))
        .filter(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let named_as = match name.as_str() {
                "mod.rs" => {
                    let folder = file.parent().unwrap().file_name().unwrap();
                    format!("{}/", folder.to_string_lossy())
                }
                _ => name,
            };
            !map.contains(&format!("{named_as}`")) && !map.contains(&format!("/{named_as}"))
        })
        .collect();
    assert_eq!(
        unnamed,
        Vec::<PathBuf>::new(),
        "modules the code map does not name"
    );
}

/// The names of the crates a package's `Cargo.toml` lists under `[dependencies]` (dev- and
/// build-dependencies are not what the product links).
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(workspace.join(manifest)).unwrap();
    text.split("\n[")
        .filter(|section| section.starts_with("dependencies]"))
        .flat_map(|section| section.lines().skip(1))
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split(['=', '.', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// Architecture Invariants (docs/ARCHITECTURE.md): dependencies point inward, the domain
/// depends on no database, HTTP or XML crate, only the adapters know diesel and SQL, and only
/// the http crate knows HTTP and XML.
#[test]
fn the_product_s_crates_depend_inward_and_each_knows_only_its_own() {
    let domain = dependencies("crates/domain/Cargo.toml");
    let adapters = dependencies("crates/adapters/Cargo.toml");
    let http = dependencies("crates/http/Cargo.toml");
    let binary = dependencies("Cargo.toml");
    assert!(
        domain.contains("bigdecimal") && adapters.contains("diesel") && http.contains("actix-web"),
        "the manifests were not read: {domain:?} {adapters:?} {http:?}"
    );
    let storage = [
        "diesel",
        "diesel_migrations",
        "libsqlite3-sys",
        "mysqlclient-sys",
        "r2d2",
    ];
    let web = ["actix-web", "reqwest", "hyper"];
    let xml = ["serde-xml-rs", "xml", "xml-rs", "quick-xml"];
    let knows = |dependencies: &BTreeSet<String>, crates: &[&str]| -> Vec<String> {
        crates
            .iter()
            .filter(|name| dependencies.contains(**name))
            .map(|name| name.to_string())
            .collect()
    };
    let none = Vec::<String>::new();
    for (name, of) in [("domain", &domain), ("http", &http), ("morcc", &binary)] {
        assert_eq!(knows(of, &storage), none, "{name} knows storage");
    }
    for (name, of) in [
        ("domain", &domain),
        ("adapters", &adapters),
        ("morcc", &binary),
    ] {
        assert_eq!(knows(of, &xml), none, "{name} knows XML");
    }
    for (name, of) in [("domain", &domain), ("adapters", &adapters)] {
        assert_eq!(knows(of, &web), none, "{name} knows HTTP");
    }
    let ours = ["morcc-domain", "morcc-adapters", "morcc-http", "morcc"];
    assert_eq!(
        knows(&domain, &ours),
        none,
        "the domain depends on nothing of ours"
    );
    assert_eq!(
        knows(&adapters, &ours),
        ["morcc-domain"],
        "adapters -> domain"
    );
    assert_eq!(knows(&http, &ours), ["morcc-domain"], "http -> domain");
}

/// Architecture Invariant (docs/ARCHITECTURE.md): nothing rounds money but `money.rs`, and
/// no float type appears in the domain or the adapters (the http crate's one float is a
/// request's duration in seconds, for the metrics).
#[test]
fn only_money_rs_rounds_and_no_float_is_near_money() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let money = workspace.join("crates/domain/src/money.rs");
    let mut offences = Vec::new();
    for root in ["crates/domain/src", "crates/adapters/src"] {
        for file in sources(&workspace.join(root)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code: Vec<&str> = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect();
            let code = code.join("\n");
            let rounds = ["with_scale_round", "RoundingMode", ".round(", "with_scale("]
                .iter()
                .any(|rounding| code.contains(rounding));
            if rounds && file != money {
                offences.push(format!("{} rounds", file.display()));
            }
            if code.contains("f64") || code.contains("f32") {
                offences.push(format!("{} uses a float", file.display()));
            }
        }
    }
    assert_eq!(offences, Vec::<String>::new());
}

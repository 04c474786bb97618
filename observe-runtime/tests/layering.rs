//! The rooms of `src/` use only the rooms below them (the table in `src/lib.rs`): every
//! `use crate::…` and `crate::…::` path of a room's files is checked against its allowed
//! dependencies, so an import cycle cannot creep back in.

use std::fs;
use std::path::Path;

/// Each room and the rooms it may use, lowest first. A folder is a room, as is a file at
/// the top of `src/` (`lib.rs`, the facade, may use everything and is not listed).
const LAYERS: &[(&str, &[&str])] = &[
    ("names", &[]),
    ("clock", &[]),
    ("error", &[]),
    ("warn_limit", &[]),
    ("hex", &[]),
    ("outcome", &["names"]),
    ("global", &["clock"]),
    ("storage", &["global", "clock", "names", "outcome"]),
    ("metrics", &["global", "names"]),
    (
        "instrumented",
        &["storage", "global", "names", "outcome", "clock"],
    ),
    // The subscriber: its layers place `tracing` spans under observe's call spans.
    ("logs", &["traces", "hex"]),
    (
        "traces",
        &[
            "instrumented",
            "global",
            "clock",
            "error",
            "names",
            "warn_limit",
        ],
    ),
    (
        "serve",
        &[
            "instrumented",
            "metrics",
            "storage",
            "global",
            "error",
            "names",
            "warn_limit",
        ],
    ),
    // Operations as code: reads the linked call and metric sites, writes files.
    ("ops", &["instrumented", "metrics", "names"]),
    (
        "testing",
        &["instrumented", "metrics", "serve", "storage", "names"],
    ),
    (
        "init",
        &[
            "serve",
            "traces",
            "logs",
            "instrumented",
            "metrics",
            "global",
            "clock",
            "error",
            "names",
        ],
    ),
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rooms a file's code (not its doc comments) names through `crate::`.
fn used_rooms(text: &str) -> Vec<String> {
    let mut rooms = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (at, _) in code.match_indices("crate::") {
            // `$crate::` and paths such as `other_crate::` are not this crate.
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let room: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            rooms.push(room);
        }
    }
    rooms
}

#[test]
fn rooms_use_only_the_rooms_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let room = first.trim_end_matches(".rs");
        if room == "lib" {
            continue;
        }
        let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == room) else {
            violations.push(format!(
                "{}: room `{room}` is not in LAYERS",
                relative.display()
            ));
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        for used in used_rooms(&text) {
            if used != room && !allowed.contains(&used.as_str()) {
                violations.push(format!(
                    "{}: `{room}` uses `crate::{used}`",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering broken:\n{}",
        violations.join("\n")
    );
    assert!(files.len() > 20, "found only {} files", files.len());
}

//! The convention in force for the annotated crate: `observe.toml`, found from the crate's
//! `CARGO_MANIFEST_DIR` upwards (stopping at the workspace root), else the built-in
//! default with the package name as namespace.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::convention::{Preset, builtin_presets, snake_case_violation, to_snake_case};

pub(crate) const FILE_NAME: &str = "observe.toml";

/// The convention a crate is checked against.
#[derive(Debug)]
pub(crate) struct Convention {
    /// Metric name prefix (the RFC's `copilot`).
    pub(crate) namespace: String,
    /// Service used when the attribute names none.
    pub(crate) default_service: Option<String>,
    pub(crate) presets: Vec<Preset>,
    /// The file it came from: a tracked input of the expansion, so editing it recompiles.
    pub(crate) source: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConventionFile {
    namespace: Option<String>,
    service: Option<String>,
}

/// Loads the convention for the crate being compiled. An unreadable or malformed file is
/// an error naming the file.
pub(crate) fn load() -> Result<Convention, String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "app".to_owned());
    let default_namespace = to_snake_case(&package);
    let Some(path) = manifest_dir.as_deref().and_then(find_file) else {
        return Ok(Convention {
            namespace: default_namespace,
            default_service: None,
            presets: builtin_presets(),
            source: None,
        });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let file: ConventionFile =
        toml::from_str(&text).map_err(|e| format!("invalid `{}`: {e}", path.display()))?;
    let namespace = file.namespace.unwrap_or(default_namespace);
    if let Some(reason) = snake_case_violation(&namespace) {
        return Err(format!(
            "invalid `{}`: namespace `{namespace}` {reason}; try `{}`",
            path.display(),
            to_snake_case(&namespace)
        ));
    }
    Ok(Convention {
        namespace,
        default_service: file.service,
        presets: builtin_presets(),
        source: Some(path),
    })
}

/// `observe.toml` in `start` or an ancestor, not above the workspace root (the first
/// directory whose `Cargo.toml` declares `[workspace]`).
fn find_file(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.lines().any(|line| line.trim() == "[workspace]") {
            return None;
        }
    }
    None
}

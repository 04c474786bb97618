//! Finding and reading the crate's `observe.toml`. In order: the file `OBSERVE_CONFIG`
//! names; else the nearest `observe.toml` from the directory of the source file being
//! expanded upwards, stopping at the workspace root; else the same search from
//! `CARGO_MANIFEST_DIR`; else the built-in default with the package name as namespace.
//!
//! Starting from the source file rather than the manifest is what makes discovery work
//! wherever the target directory is: trybuild (and any tool that compiles a copy of a
//! manifest under `target/`) builds crates whose `CARGO_MANIFEST_DIR` is inside the target
//! directory, but whose source files are still the ones in the checkout. It also lets the
//! test suites of a crate declare their services next to them (`tests/observe.toml`).
//!
//! Parsed conventions are cached for the life of the process, because a proc-macro
//! server (rust-analyzer, and rustc within one crate) runs every invocation in one
//! process: a file is parsed once per content, not once per annotated function.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::model::{Convention, FILE_NAME};
use super::validate;
use crate::text::to_snake_case;

/// The variable naming the convention file, read by the macros and tracked by the
/// expansion (`option_env!`) so that changing it rebuilds.
pub(crate) const CONFIG_VAR: &str = "OBSERVE_CONFIG";

/// The convention, or every problem of a malformed file as one message each.
pub(crate) type Loaded = Result<Arc<Convention>, Arc<Vec<String>>>;

/// Loads the convention for the code being expanded; `source_file` is the file the macro
/// was invoked in, when the compiler knows it (`Span::local_file`).
pub(crate) fn load(source_file: Option<PathBuf>) -> Loaded {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "app".to_owned());
    let default_namespace = to_snake_case(&package);
    let configured = std::env::var_os(CONFIG_VAR).filter(|v| !v.is_empty());
    let named_by = if configured.is_some() {
        format!(" (named by `{CONFIG_VAR}`)")
    } else {
        String::new()
    };
    let path = match configured {
        Some(named) => Some(configured_path(&named, manifest_dir.as_deref())),
        None => discover(source_file.as_deref(), manifest_dir.as_deref()),
    };
    match path {
        None => Ok(Arc::new(Convention::builtin(default_namespace))),
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => cached(&path, &text, default_namespace),
            Err(e) => Err(Arc::new(vec![format!(
                "cannot read `{}`{named_by}: {e}",
                path.display()
            )])),
        },
    }
}

/// `OBSERVE_CONFIG`'s file: absolute as given, or relative to the crate's manifest
/// directory (the one directory every crate of a build has; the compiler's working
/// directory differs between workspace members and dependencies).
fn configured_path(named: &std::ffi::OsStr, manifest_dir: Option<&Path>) -> PathBuf {
    let named = Path::new(named);
    match manifest_dir {
        Some(dir) if named.is_relative() => dir.join(named),
        _ => named.to_path_buf(),
    }
}

/// The nearest `observe.toml` above the source file, else above the manifest directory.
/// A relative source path (what rustc reports for workspace members) is relative to the
/// compiler's working directory, so it is made absolute against it.
fn discover(source_file: Option<&Path>, manifest_dir: Option<&Path>) -> Option<PathBuf> {
    let source_dir = source_file
        .and_then(Path::parent)
        .and_then(|dir| std::path::absolute(dir).ok())
        .filter(|dir| dir.is_dir());
    source_dir
        .as_deref()
        .and_then(find_file)
        .or_else(|| manifest_dir.and_then(find_file))
}

/// Which file, read with which default namespace (crates of one workspace share a file
/// but not a package name), holding which text.
#[derive(PartialEq, Eq, Hash)]
struct CacheKey {
    path: PathBuf,
    default_namespace: String,
}

/// The parse of `text`, from the cache when the file's content is unchanged. Keyed on a
/// hash of the content rather than the modification time, whose granularity can miss an
/// edit made within the same tick; reading a small file costs far less than parsing it.
fn cached(path: &Path, text: &str, default_namespace: String) -> Loaded {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, (u64, Loaded)>>> = OnceLock::new();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let content = hasher.finish();
    let key = CacheKey {
        path: path.to_path_buf(),
        default_namespace,
    };
    let cache = CACHE.get_or_init(Mutex::default);
    // A poisoned lock only means another invocation panicked; the map is still whole.
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((hash, loaded)) = cache.get(&key)
        && *hash == content
    {
        return loaded.clone();
    }
    let loaded = validate::parse(text, path, key.default_namespace.clone())
        .map(Arc::new)
        .map_err(Arc::new);
    cache.insert(key, (content, loaded.clone()));
    loaded
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::cached;

    /// One parse per content: the same text gives the same `Arc`, an edit a new parse.
    #[test]
    fn parses_once_per_content() {
        let path = std::path::Path::new("/cache-test/observe.toml");
        let first = cached(path, "namespace = \"acme\"\n", "app".to_owned()).unwrap();
        let again = cached(path, "namespace = \"acme\"\n", "app".to_owned()).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let edited = cached(path, "namespace = \"beta\"\n", "app".to_owned()).unwrap();
        assert_eq!(edited.namespace, "beta");
        let other_crate = cached(path, "namespace = \"beta\"\n", "other".to_owned()).unwrap();
        assert!(!Arc::ptr_eq(&edited, &other_crate));
    }
}

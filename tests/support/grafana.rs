//! Type-checks generated dashboards against Grafana's published dashboard types
//! (`@grafana/schema`, installed by `.ci/run` under `.ci/grafana-schema/`) with the
//! TypeScript compiler: each dashboard as a `Dashboard`, each panel as its plugin's
//! `Options` and `FieldConfig`. Enums are compared by their JSON values, and object
//! literals get TypeScript's excess-property check, so an unknown key is an error.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const PRELUDE: &str = r#"import type { AnnotationQuery, Dashboard, DataQuery, Panel, RowPanel } from '@grafana/schema';
import type * as TimeSeries from '@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as Text from '@grafana/schema/dist/types/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';

// The JSON form of a type: string enums by their values.
type Json<T> = unknown extends T ? T
  : T extends string ? `${T}`
  : T extends number | boolean | null | undefined ? T
  : T extends Array<infer U> ? Array<Json<U>>
  : { [K in keyof T]: Json<T[K]> };
// Prometheus's query model is not in @grafana/schema: the fields the generator writes.
interface PromQuery extends DataQuery { expr: string; legendFormat?: string }
type DashboardOf = Json<Omit<Dashboard, 'annotations'> & { annotations: { list: AnnotationQuery<PromQuery>[] } }>;
type PanelOf<O, F> = Json<Omit<Panel<unknown, F>, 'options'> & { options: O }>;
"#;

/// The directory holding `node_modules/@grafana/schema` and `typescript`; if they are not
/// installed, `None` after a loud SKIPPED line, or a failure when
/// `OBSERVE_REQUIRE_GRAFANA_SCHEMA=1` (CI).
pub fn schema_dir_or_skip() -> Option<PathBuf> {
    let dir = std::env::var_os("OBSERVE_GRAFANA_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/grafana-schema"));
    if dir.join("node_modules/@grafana/schema").is_dir() {
        return Some(dir);
    }
    let required = std::env::var("OBSERVE_REQUIRE_GRAFANA_SCHEMA").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "@grafana/schema is not installed in {} (npm ci --prefix .ci/grafana-schema), and OBSERVE_REQUIRE_GRAFANA_SCHEMA=1 requires it",
        dir.display()
    );
    // To the process's stderr: the harness hides `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED: @grafana/schema not installed (npm ci --prefix .ci/grafana-schema) !!!!!\n"
    );
    None
}

/// The TypeScript source checking these dashboards.
pub fn source(dashboards: &[(String, Value)]) -> String {
    let mut out = String::from(PRELUDE);
    for (n, (name, json)) in dashboards.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n// {name}\nexport const dashboard{n}: DashboardOf = {json};"
        );
        for (p, panel) in json["panels"].as_array().into_iter().flatten().enumerate() {
            let ty = match panel["type"].as_str() {
                Some("row") => "Json<RowPanel>".to_owned(),
                Some("timeseries") => {
                    "PanelOf<TimeSeries.Options, TimeSeries.FieldConfig>".to_owned()
                }
                Some("stat") => "PanelOf<Stat.Options, unknown>".to_owned(),
                Some("text") => "PanelOf<Text.Options, unknown>".to_owned(),
                other => panic!("{name}: no type for panel type {other:?}"),
            };
            let _ = writeln!(out, "export const panel{n}_{p}: {ty} = {panel};");
        }
    }
    out
}

/// Runs `tsc --noEmit --strict` on the source in `dir`; `Err` holds the diagnostics.
pub fn check(schema: &Path, dashboards: &[(String, Value)]) -> Result<(), String> {
    let file = schema.join(format!("check-{}.ts", std::process::id()));
    std::fs::write(&file, source(dashboards)).map_err(|e| e.to_string())?;
    let output = Command::new("node")
        .arg(schema.join("node_modules/typescript/bin/tsc"))
        .args([
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--target",
            "es2020",
            "--moduleResolution",
            "node",
        ])
        .arg(&file)
        .current_dir(schema)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let _ = std::fs::remove_file(&file);
    if output.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

//! sqlc: its config file (`sqlc.yaml`, `sqlc.yml`, `sqlc.json`) names the query files or
//! directories (`queries:`); each query file (`-- name: GetUser :one` blocks) is resolved
//! against N-1's schema.

use super::queries::read_query_file;
use super::{SourceKind, Usage, UsageInput};
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

pub fn read(
    input: &UsageInput<'_>,
    texts: &[(&str, &str)],
    usage: &mut Usage,
    claimed: &mut BTreeSet<String>,
) {
    let configs: Vec<(&str, &str)> = match &input.config.sqlc {
        Some(paths) => paths
            .iter()
            .filter_map(|p| {
                let found = texts.iter().find(|(path, _)| path == p).copied();
                if found.is_none() {
                    usage.warnings.push(format!(
                        "[usage] sqlc: `{p}` does not exist at {}; sqlc evidence is not used",
                        input.rev
                    ));
                    usage.broken_file(None);
                }
                found
            })
            .collect(),
        None => texts
            .iter()
            .filter(|(p, _)| {
                let name = p.rsplit('/').next().unwrap_or(p);
                matches!(name, "sqlc.yaml" | "sqlc.yml" | "sqlc.json") && input.selection.is_code(p)
            })
            .copied()
            .collect(),
    };
    for (config, text) in configs {
        let dir = config.rsplit_once('/').map_or("", |(d, _)| d);
        let entries = match query_paths(config, text) {
            Ok(entries) => entries,
            Err(message) => {
                usage.warnings.push(message);
                usage.broken_file(None);
                continue;
            }
        };
        for entry in entries {
            let base = join(dir, &entry);
            let files: Vec<(&str, &str)> = texts
                .iter()
                .filter(|(p, _)| {
                    *p == base || (p.starts_with(&format!("{base}/")) && p.ends_with(".sql"))
                })
                .copied()
                .collect();
            if files.is_empty() {
                usage.warnings.push(format!(
                    "{config}: queries path `{entry}` matches no file at {}; sqlc evidence is \
                     not used",
                    input.rev
                ));
                usage.broken_file(None);
            }
            for (path, text) in files {
                read_query_file(input, usage, path, text, SourceKind::Sqlc);
                claimed.insert(path.to_string());
            }
        }
        claimed.insert(config.to_string());
    }
}

/// `./sql/../queries` relative to `dir`, normalised.
fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// The `queries` values of every `sql` (version 2) or `packages` (version 1) entry.
fn query_paths(path: &str, text: &str) -> Result<Vec<String>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|err| {
        format!(
            "{path}:{}: does not parse as YAML ({}); sqlc evidence is not used",
            err.marker().line(),
            err.info()
        )
    })?;
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
    let mut paths = Vec::new();
    for key in ["sql", "packages"] {
        for entry in doc[key].as_vec().map(Vec::as_slice).unwrap_or_default() {
            match &entry["queries"] {
                Yaml::String(s) => paths.push(s.clone()),
                Yaml::Array(items) => {
                    paths.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                }
                _ => {}
            }
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_two_and_json_configs_name_their_query_paths() {
        let yaml = "version: \"2\"\nsql:\n  - engine: postgresql\n    queries: \"db/query/\"\n    schema: \"db/migrations\"\n  - engine: postgresql\n    queries: [a.sql, b.sql]\n";
        assert_eq!(
            query_paths("sqlc.yaml", yaml).unwrap(),
            ["db/query/", "a.sql", "b.sql"]
        );
        let json = r#"{"version": "1", "packages": [{"queries": "./sql/query.sql"}]}"#;
        assert_eq!(query_paths("sqlc.json", json).unwrap(), ["./sql/query.sql"]);
        assert_eq!(join("app", "./db/query/"), "app/db/query");
    }

    #[test]
    fn a_broken_config_names_its_line() {
        let err = query_paths("sqlc.yaml", "sql:\n  - queries: [a\n  bad: : :\n").unwrap_err();
        assert!(err.starts_with("sqlc.yaml:"), "{err}");
    }
}

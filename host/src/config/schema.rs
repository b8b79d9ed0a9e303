//! A JSON Schema of the config file, for editors: a YAML language server
//! given it checks and completes the `secrets:` section as it is typed.
//! `pp-secrets schema` prints it.
//!
//! The field names come from the tables the parser checks a config
//! against: the section's (`SECTION_FIELDS` in `parse.rs`), every
//! backend's (`BACKEND_FIELDS`), each backend type's
//! (`BackendSettings::FIELDS`, through `BACKEND_TYPES` in
//! `providers/mod.rs`, for the types this build contains) and the nested
//! ones (`refresh`'s in `refresh.rs`; a `wasm` backend's `allow`, `limits`
//! and `tls` in `wasm/settings.rs`). So the schema has every field the
//! parser accepts, and no other. What a field holds (its type, default,
//! range) is said here, beside its name; defaults and maxima are the
//! settings types' own constants. A field a table gains without a word
//! here is in the schema without constraints, and this module's tests fail
//! until it is described.
//!
//! The schema describes the file as written, before `${VAR}` expansion: a
//! string holding `${` is accepted where expansion could make a valid value
//! of it (a boolean, a number, a backend type). It is as strict as the
//! parser where a JSON Schema can say it (unknown fields, backend types,
//! required fields, value types, ranges) and looser where the parser checks
//! more (a duration's range, whether a directory may be granted,
//! `client_cert` without `client_key`): it never rejects a config the
//! parser accepts.

use serde_json::{Map, Value, json};

use super::parse::{BACKEND_FIELDS, DEFAULT_BACKEND_TYPE, SECTION_FIELDS};
use super::{RefreshSettings, refresh};
use crate::providers::{BACKEND_TYPES, Trim};

/// The JSON Schema (draft-07) of a config file: a mapping whose `secrets:`
/// section is described field by field, every other section being the
/// application's. See the README's "Command line reference" (`pp-secrets
/// schema`) for using it in an editor.
pub fn config_schema() -> Value {
    Writer::default().document()
}

/// The `$ref` of the shared `refresh` definition.
const REFRESH: &str = "#/definitions/refresh";
/// The `$ref` of the shared backend definition.
const BACKEND: &str = "#/definitions/backend";
/// Matches a string `${VAR}` expansion may turn into anything.
const EXPANDED: &str = r"\$\{";

/// Where a field is.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// The `secrets:` section.
    Section,
    /// A backend of the named type.
    Backend(&'a str),
    /// A `refresh` mapping.
    Refresh,
    /// A `wasm` backend's `allow`.
    #[cfg(feature = "wasm")]
    Allow,
    /// A `wasm` backend's `limits`.
    #[cfg(feature = "wasm")]
    Limits,
    /// A `wasm` backend's `tls`.
    #[cfg(feature = "wasm")]
    Tls,
}

/// What one field holds.
struct Field {
    schema: Value,
    /// The parser refuses a mapping without it (or with it null or empty).
    required: bool,
}

impl Field {
    fn optional(schema: Value) -> Self {
        Self {
            schema,
            required: false,
        }
    }

    fn required(schema: Value) -> Self {
        Self {
            schema,
            required: true,
        }
    }
}

/// Writes the schema, noting the fields it has no description of.
#[derive(Default)]
struct Writer {
    /// `scope.field` of each field written without a description.
    undescribed: Vec<String>,
}

impl Writer {
    /// The whole document.
    fn document(&mut self) -> Value {
        let section = self.mapping(Scope::Section, SECTION_FIELDS);
        let backend = self.backend();
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "pp-secrets configuration",
            "description": "An application config: pp-secrets reads its `secrets:` section; \
                            every other section belongs to the application. Written before \
                            ${VAR} expansion.",
            "type": ["object", "null"],
            "properties": {
                "secrets": with_type(section, &["object", "null"], "The secrets subsystem."),
            },
            "definitions": {
                "backend": backend,
                "refresh": self.refresh(),
            },
        })
    }

    /// A mapping of `names` (as the parser's `Fields` reads it): those
    /// properties, the required ones, and no other field.
    fn mapping(&mut self, scope: Scope<'_>, names: &[&str]) -> Map<String, Value> {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for &name in names {
            let field = self.field(scope, name).unwrap_or_else(|| {
                self.undescribed
                    .push(format!("{}.{name}", scope_name(scope)));
                Field::optional(json!({ "description": "(not described)" }))
            });
            if field.required {
                required.push(json!(name));
            }
            properties.insert(name.to_owned(), field.schema);
        }
        let mut mapping = Map::new();
        mapping.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            mapping.insert("required".into(), Value::Array(required));
        }
        mapping.insert("additionalProperties".into(), Value::Bool(false));
        mapping
    }

    /// A backend: its `type` picks the fields it may have.
    fn backend(&mut self) -> Value {
        let built: Vec<(&str, &[&str])> = BACKEND_TYPES
            .iter()
            .filter_map(|t| t.built_in.as_ref().map(|b| (t.name, b.fields)))
            .collect();
        let mut names: Vec<Value> = built.iter().map(|(name, _)| json!(name)).collect();
        names.push(Value::Null);
        let branches: Vec<Value> = built
            .iter()
            .map(|&(type_name, own)| {
                let fields: Vec<&str> = BACKEND_FIELDS.iter().chain(own).copied().collect();
                let this_type = if type_name == DEFAULT_BACKEND_TYPE {
                    // Absent or null means the default type.
                    json!({ "properties": { "type": { "enum": [type_name, null] } } })
                } else {
                    json!({ "properties": { "type": { "const": type_name } }, "required": ["type"] })
                };
                json!({
                    "if": this_type,
                    "then": Value::Object(self.mapping(Scope::Backend(type_name), &fields)),
                })
            })
            .collect();
        json!({
            "type": ["object", "null"],
            "description": "A backend; its `type` says which fields it takes.",
            "properties": {
                "type": {
                    "description": format!(
                        "The backend type (default {DEFAULT_BACKEND_TYPE}). This build has: {}.",
                        built.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
                    ),
                    "anyOf": [{ "enum": names }, expanded()],
                },
            },
            "allOf": branches,
        })
    }

    /// `refresh`: a mapping, or off.
    fn refresh(&mut self) -> Value {
        let settings = with_type(
            self.mapping(Scope::Refresh, refresh::FIELDS),
            &["object"],
            "",
        );
        json!({
            "description": "How often cached values are checked against the backend \
                            ({ every: 5m, max_stale: 50m }), or off.",
            "anyOf": [
                settings,
                { "enum": [false, null] },
                { "type": "string", "pattern": format!("^(off|false)$|{EXPANDED}") },
            ],
        })
    }

    /// What `name` in `scope` holds; `None` when this file does not say.
    fn field(&mut self, scope: Scope<'_>, name: &str) -> Option<Field> {
        let field = match (scope, name) {
            (Scope::Section, "enabled") => Field::optional(flag(
                false,
                "Whether the secrets subsystem exists at all: false means no manager.",
            )),
            (Scope::Section, "cache_enabled") => {
                Field::optional(flag(true, "Keep fetched secrets in memory."))
            }
            (Scope::Section, "backends") => Field::optional(json!({
                "type": ["object", "null"],
                "description": "The named backends; a name is the part before `:` in keys.",
                "propertyNames": { "pattern": "^[^:]+$" },
                "additionalProperties": { "$ref": BACKEND },
            })),
            (Scope::Section, "load") => Field::optional(json!({
                "type": ["array", "null"],
                "description": "backend:pattern declarations preloaded at start-up, in order.",
                "items": { "type": "string", "pattern": ":" },
            })),
            (Scope::Section, "wasm_cache") => Field::optional(json!({
                "type": ["string", "boolean", "null"],
                "description": "Where compiled Wasm components are kept between runs: a \
                                directory, or false (off). Default: PP_SECRETS_WASM_CACHE, \
                                else the user's cache directory.",
                "minLength": 1,
            })),
            (Scope::Section, "refresh") => Field::optional(described_ref(
                REFRESH,
                "The default refresh of every backend.",
            )),

            (Scope::Refresh, "every") => Field::required(duration("The time between two checks.")),
            (Scope::Refresh, "max_stale") => Field::optional(nullable(duration(&format!(
                "How long values are served while checks fail (default {} times every).",
                RefreshSettings::DEFAULT_MAX_STALE_FACTOR
            )))),

            (Scope::Backend(type_name), "type") => {
                Field::optional(if type_name == DEFAULT_BACKEND_TYPE {
                    json!({ "enum": [type_name, null] })
                } else {
                    json!({ "const": type_name })
                })
            }
            (Scope::Backend(_), "prefix") => {
                Field::optional(text("Prepended to every logical name (default empty)."))
            }
            (Scope::Backend(_), "refresh") => Field::optional(described_ref(
                REFRESH,
                "This backend's refresh (wins over secrets.refresh); off opts out.",
            )),
            (Scope::Backend(_), "trim") => Field::optional(json!({
                "description": "What is stripped from the end of each value read (default none).",
                "anyOf": [{ "enum": Trim::NAMES.iter().copied().map(Value::from).chain([Value::Null]).collect::<Vec<_>>() }, expanded()],
            })),
            (Scope::Backend("file"), "path") => Field::required(required_text(
                "secrets.yaml",
                "The YAML file (relative to the config file's directory).",
            )),
            (Scope::Backend("dotenv"), "path") => Field::optional(text(
                "The .env file (relative to the config file's directory; default .env).",
            )),

            #[cfg(feature = "aws")]
            (Scope::Backend("aws"), _) => return aws_field(name),

            #[cfg(feature = "wasm")]
            (Scope::Backend("wasm"), "path") => Field::required(required_text(
                "provider.wasm",
                "The provider component (relative to the config file's directory).",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Backend("wasm"), "config") => Field::optional(json!({
                "type": ["object", "null"],
                "description": "Strings handed to the provider's setup.",
                "additionalProperties": { "type": ["string", "number", "boolean"] },
            })),
            #[cfg(feature = "wasm")]
            (Scope::Backend("wasm"), "allow") => Field::optional(with_type(
                self.mapping(Scope::Allow, crate::wasm::ALLOW_FIELDS),
                &["object", "null"],
                "What the provider may reach; nothing by default.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Backend("wasm"), "limits") => Field::optional(with_type(
                self.mapping(Scope::Limits, crate::wasm::LIMIT_FIELDS),
                &["object", "null"],
                "How much one instance of the provider may use.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Backend("wasm"), "tls") => Field::optional(with_type(
                self.mapping(Scope::Tls, crate::wasm::TLS_FIELDS),
                &["object", "null"],
                "How the hosts in allow.hosts are trusted over HTTPS \
                 (client_cert and client_key go together).",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Allow, "env") => Field::optional(list(
                json!({ "type": "string", "pattern": "^[^=\\u0000]+$" }),
                "Host environment variables the provider sees.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Allow, "dirs") => Field::optional(list(
                json!({ "type": "string", "minLength": 1 }),
                "Host directories the provider may read.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Allow, "hosts") => Field::optional(list(
                json!({ "type": "string", "pattern": "^[^/]+$" }),
                "Hosts the provider may send HTTP requests to: host:port, [v6]:port or host.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Limits, _) => return limits_field(name),
            #[cfg(feature = "wasm")]
            (Scope::Tls, "ca_file") => Field::optional(text(
                "A PEM bundle of CA certificates trusted besides the system's roots.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Tls, "client_cert") => Field::optional(text(
                "A PEM certificate chain presented to servers that ask for one.",
            )),
            #[cfg(feature = "wasm")]
            (Scope::Tls, "client_key") => {
                Field::optional(text("The PEM private key of client_cert."))
            }
            _ => return None,
        };
        Some(field)
    }
}

/// An `aws` backend's own fields.
#[cfg(feature = "aws")]
fn aws_field(name: &str) -> Option<Field> {
    use crate::providers::AwsSettings;
    let defaults = AwsSettings::default();
    let schema = match name {
        "region_name" => text("The region; else AWS_REGION or the profile's."),
        "profile_name" => text("A profile of the shared AWS config files."),
        "endpoint_url" => {
            text("A Secrets Manager endpoint; else AWS_ENDPOINT_URL or the region's.")
        }
        "concurrency" => positive(
            defaults.concurrency as u64,
            AwsSettings::MAX_CONCURRENCY as u64,
            "Batch calls in flight at once during a load.",
        ),
        "max_attempts" => positive(
            u64::from(defaults.max_attempts),
            u64::from(AwsSettings::MAX_ATTEMPTS),
            "Tries per call.",
        ),
        "connect_timeout_ms" => positive(
            defaults.connect_timeout_ms,
            u64::MAX,
            "Time to open a connection, in milliseconds.",
        ),
        "attempt_timeout_ms" => positive(
            defaults.attempt_timeout_ms,
            u64::MAX,
            "Time for one attempt of one call, in milliseconds.",
        ),
        _ => return None,
    };
    Some(Field::optional(schema))
}

/// A `wasm` backend's `limits` fields.
#[cfg(feature = "wasm")]
fn limits_field(name: &str) -> Option<Field> {
    use crate::wasm::Limits;
    let defaults = Limits::default();
    let schema = match name {
        "memory_mb" => positive(
            defaults.memory_mb,
            Limits::MAX_MEMORY_MB,
            "Linear memory and tables of one instance, in MiB.",
        ),
        "timeout_ms" => positive(
            defaults.timeout_ms,
            Limits::MAX_TIMEOUT_MS,
            "Wall-clock time of one call, in milliseconds.",
        ),
        "instances" => positive(
            defaults.instances as u64,
            Limits::MAX_INSTANCES as u64,
            "Calls running at once, each in its own instance.",
        ),
        "open_files" => positive(
            defaults.open_files as u64,
            Limits::MAX_OPEN_FILES as u64,
            "Files and directories one instance may have open at once.",
        ),
        "handles" => positive(
            defaults.handles as u64,
            Limits::MAX_HANDLES as u64,
            "Host resources one instance may hold at once.",
        ),
        "max_names" => positive(
            defaults.max_names as u64,
            Limits::MAX_MAX_NAMES as u64,
            "Names in one list or bulk reply.",
        ),
        "max_reply_mb" => positive(
            defaults.max_reply_mb,
            Limits::MAX_MEMORY_MB,
            "Bytes of names and values in one list or bulk reply, in MiB.",
        ),
        _ => return None,
    };
    Some(Field::optional(schema))
}

/// The name of `scope` in messages about undescribed fields.
fn scope_name(scope: Scope<'_>) -> String {
    match scope {
        Scope::Section => "secrets".into(),
        Scope::Backend(type_name) => format!("backend({type_name})"),
        Scope::Refresh => "refresh".into(),
        #[cfg(feature = "wasm")]
        Scope::Allow => "allow".into(),
        #[cfg(feature = "wasm")]
        Scope::Limits => "limits".into(),
        #[cfg(feature = "wasm")]
        Scope::Tls => "tls".into(),
    }
}

/// `mapping` as a schema of JSON `types`, with `description` (when not
/// empty).
fn with_type(mut mapping: Map<String, Value>, types: &[&str], description: &str) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), json!(types));
    if !description.is_empty() {
        schema.insert("description".into(), json!(description));
    }
    schema.append(&mut mapping);
    Value::Object(schema)
}

/// A string that `${VAR}` expansion may turn into anything.
fn expanded() -> Value {
    json!({ "type": "string", "pattern": EXPANDED })
}

/// The shared definition at `reference`, with a description of its own.
fn described_ref(reference: &str, description: &str) -> Value {
    json!({ "description": description, "allOf": [{ "$ref": reference }] })
}

/// `schema`, or null.
fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

/// A boolean (`Fields::bool`: also the strings true and false).
fn flag(default: bool, description: &str) -> Value {
    json!({
        "type": ["boolean", "string", "null"],
        "pattern": format!("^(true|false)$|{EXPANDED}"),
        "default": default,
        "description": description,
    })
}

/// A scalar read as a string (`Fields::string`), or null.
fn text(description: &str) -> Value {
    json!({ "type": ["string", "number", "boolean", "null"], "description": description })
}

/// A scalar read as a string that must be there and not empty
/// (`Fields::required_path`).
fn required_text(example: &str, description: &str) -> Value {
    json!({
        "type": ["string", "number", "boolean"],
        "minLength": 1,
        "examples": [example],
        "description": description,
    })
}

/// A whole number of at least 1 (`Fields::positive`: also written as a
/// string of digits), at most `max` when it has a maximum (`u64::MAX` for
/// none, which is left out).
#[cfg(any(feature = "aws", feature = "wasm"))]
fn positive(default: u64, max: u64, description: &str) -> Value {
    let mut schema = json!({
        "type": ["integer", "string", "null"],
        "minimum": 1,
        "pattern": format!(r"^\+?0*[1-9][0-9]*$|{EXPANDED}"),
        "default": default,
        "description": description,
    });
    if max < u64::MAX {
        schema["maximum"] = json!(max);
    }
    schema
}

/// A duration (`parse_duration`): digits and one unit.
fn duration(description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[0-9]{{1,12}}(ms|s|m|h)$|{EXPANDED}"),
        "examples": ["30s", "5m"],
        "description": format!("{description} Digits and a unit: 500ms, 30s, 10m, 1h."),
    })
}

/// A list of `item` (`Fields::string_list`), or null.
#[cfg(feature = "wasm")]
fn list(item: Value, description: &str) -> Value {
    json!({ "type": ["array", "null"], "items": item, "description": description })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_the_parser_accepts_is_described() {
        let mut writer = Writer::default();
        let schema = writer.document();
        assert!(
            writer.undescribed.is_empty(),
            "fields the parser accepts but config/schema.rs does not describe: {:?}",
            writer.undescribed
        );
        assert_eq!(
            schema["$schema"],
            json!("http://json-schema.org/draft-07/schema#")
        );
    }

    #[test]
    fn every_built_in_type_has_a_branch_with_exactly_its_fields() {
        let schema = config_schema();
        let branches = schema["definitions"]["backend"]["allOf"]
            .as_array()
            .expect("branches");
        let built: Vec<_> = BACKEND_TYPES
            .iter()
            .filter_map(|t| t.built_in.as_ref().map(|b| (t.name, b.fields)))
            .collect();
        assert_eq!(branches.len(), built.len());
        for (branch, (type_name, own)) in branches.iter().zip(built) {
            let mut expected: Vec<&str> = BACKEND_FIELDS.iter().chain(own).copied().collect();
            let mut got: Vec<&str> = branch["then"]["properties"]
                .as_object()
                .expect("properties")
                .keys()
                .map(String::as_str)
                .collect();
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expected, "{type_name}");
            assert_eq!(branch["then"]["additionalProperties"], json!(false));
        }
    }
}

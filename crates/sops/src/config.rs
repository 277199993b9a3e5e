//! `.sops.yaml` creation rules, resolved as `sops` resolves them: the rules are tried in
//! order and the first whose `path_regex` matches (an unanchored search on the file's path
//! relative to the config's directory; a rule without one matches everything) decides the
//! recipients and the partial-encryption options. `age` may be a comma-separated string or
//! a list; a single `key_groups` entry (with `merge`) is the same as top-level keys.
//!
//! Finding the file (walking up from the working directory) is the caller's IO; this
//! module reads its text.

use serde_json::Value;

use crate::{Error, Rules};

/// The config file name sops looks for.
pub const CONFIG_FILE: &str = ".sops.yaml";

/// A parsed `.sops.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The creation rules, in order.
    pub creation_rules: Vec<CreationRule>,
}

/// One creation rule.
#[derive(Debug, Clone)]
pub struct CreationRule {
    /// Which files it is for (None: every file).
    pub path_regex: Option<regex::Regex>,
    /// The age recipients files get encrypted for.
    pub age: Vec<String>,
    /// Which values are encrypted.
    pub rules: Rules,
}

fn bad(at: &str, what: impl std::fmt::Display) -> Error {
    Error::Format(format!("{CONFIG_FILE}: {at}: {what}"))
}

/// sops' key fields: a comma-separated string or a list of strings.
fn key_list(v: Option<&Value>, at: &str) -> Result<Vec<String>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(bad(
                    at,
                    format!("expected a string in the list, found {other}"),
                )),
            })
            .collect(),
        Some(other) => Err(bad(
            at,
            format!("expected a comma-separated string or a list, found {other}"),
        )),
    }
}

/// Key services sops knows besides age; infraflux refuses rules that name them rather than
/// silently leaving a recipient out.
const OTHER_KEYS: &[&str] = &[
    "pgp",
    "kms",
    "gcp_kms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hckms",
];

fn age_of_group(group: &Value, at: &str) -> Result<Vec<String>, Error> {
    for other in OTHER_KEYS {
        if !key_list(group.get(*other), at)?.is_empty() {
            return Err(bad(
                at,
                format!(
                    "names `{other}` keys; infraflux encrypts for age recipients only (use sops for this file, or age)"
                ),
            ));
        }
    }
    let mut age = key_list(group.get("age"), &format!("{at}.age"))?;
    if let Some(merge) = group.get("merge") {
        let Value::Array(groups) = merge else {
            return Err(bad(at, "`merge` must be a list of key groups"));
        };
        for (i, g) in groups.iter().enumerate() {
            age.extend(age_of_group(g, &format!("{at}.merge[{i}]"))?);
        }
    }
    Ok(age)
}

fn string(rule: &Value, key: &str, at: &str) -> Result<Option<String>, Error> {
    match rule.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(
            &format!("{at}.{key}"),
            format!("expected a string, found {other}"),
        )),
    }
}

/// Parses a `.sops.yaml`.
pub fn parse(text: &str) -> Result<Config, Error> {
    let doc: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(text).map_err(|e| bad("not YAML", e))?
    };
    let Some(rules) = doc.get("creation_rules") else {
        return Ok(Config::default());
    };
    let Value::Array(rules) = rules else {
        return Err(bad("creation_rules", "expected a list of rules"));
    };
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("creation_rules[{i}]");
        if !rule.is_object() {
            return Err(bad(&at, "expected a mapping"));
        }
        let path_regex = string(rule, "path_regex", &at)?
            .map(|r| {
                regex::Regex::new(&r)
                    .map_err(|e| bad(&format!("{at}.path_regex"), format!("bad regex: {e}")))
            })
            .transpose()?;
        let age = match rule.get("key_groups") {
            Some(Value::Array(groups)) if !groups.is_empty() => {
                if groups.len() > 1 {
                    return Err(bad(
                        &at,
                        "several key_groups split the data key (Shamir), which infraflux does not support; use one group",
                    ));
                }
                age_of_group(&groups[0], &format!("{at}.key_groups[0]"))?
            }
            _ => age_of_group(rule, &at)?,
        };
        let mac_only_encrypted = match rule.get("mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(bad(
                    &format!("{at}.mac_only_encrypted"),
                    format!("expected true or false, found {other}"),
                ));
            }
        };
        let rules = Rules {
            unencrypted_suffix: string(rule, "unencrypted_suffix", &at)?,
            encrypted_suffix: string(rule, "encrypted_suffix", &at)?,
            unencrypted_regex: string(rule, "unencrypted_regex", &at)?,
            encrypted_regex: string(rule, "encrypted_regex", &at)?,
            unencrypted_comment_regex: string(rule, "unencrypted_comment_regex", &at)?,
            encrypted_comment_regex: string(rule, "encrypted_comment_regex", &at)?,
            mac_only_encrypted,
        };
        let set = [
            &rules.unencrypted_suffix,
            &rules.encrypted_suffix,
            &rules.unencrypted_regex,
            &rules.encrypted_regex,
            &rules.unencrypted_comment_regex,
            &rules.encrypted_comment_regex,
        ]
        .iter()
        .filter(|r| r.is_some())
        .count();
        if set > 1 {
            return Err(bad(
                &at,
                "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule",
            ));
        }
        out.push(CreationRule {
            path_regex,
            age,
            rules,
        });
    }
    Ok(Config {
        creation_rules: out,
    })
}

impl Config {
    /// The first rule for `relative_path` (the file's path relative to the config's
    /// directory, `/`-separated; outside it, the absolute path), as sops picks it.
    pub fn rule_for(&self, relative_path: &str) -> Option<&CreationRule> {
        self.creation_rules.iter().find(|r| {
            r.path_regex
                .as_ref()
                .is_none_or(|re| re.is_match(relative_path))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    const B: &str = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";

    #[test]
    fn first_match_wins_and_keys_take_both_spellings() {
        let cfg = parse(&format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {A} , {B},\n  - path_regex: \\.json$\n    key_groups:\n      - age: [{B}]\n        merge:\n          - age: [{A}]\n  - age:\n      - {A}\n"
        ))
        .unwrap();
        let r = cfg.rule_for("apps/secrets/db.yaml").unwrap();
        assert_eq!(r.age, [A, B]);
        assert_eq!(
            r.rules.encrypted_regex.as_deref(),
            Some("^(data|stringData)$")
        );
        // Unanchored: the regex may match anywhere in the path.
        assert_eq!(cfg.rule_for("deep/x.json").unwrap().age, [B, A]);
        assert_eq!(cfg.rule_for("other.txt").unwrap().age, [A]);
        assert_eq!(cfg.rule_for("other.txt").unwrap().rules, Rules::default());
    }

    #[test]
    fn no_match_and_refusals() {
        let cfg = parse("creation_rules:\n  - path_regex: ^only\\.yaml$\n    age: x\n").unwrap();
        assert!(cfg.rule_for("other.yaml").is_none());
        for (text, says) in [
            ("creation_rules:\n  - pgp: ABC\n    age: x\n", "`pgp` keys"),
            (
                "creation_rules:\n  - key_groups:\n      - age: [x]\n      - age: [y]\n",
                "Shamir",
            ),
            (
                "creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: b\n",
                "more than one",
            ),
            ("creation_rules:\n  - path_regex: '('\n", "bad regex"),
            ("creation_rules: 3\n", "list of rules"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(says) && err.starts_with(".sops.yaml"), "{err}");
        }
        assert!(parse("").unwrap().creation_rules.is_empty());
    }
}

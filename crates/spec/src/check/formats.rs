//! Syntax of the strings the spec carries: names, labels, versions, URLs, cron schedules.
//! Each returns `Err(reason)` with a short reason fit to follow "… is not valid: ".

use std::str::FromStr;

/// A DNS-1123 label (Kubernetes object and namespace names, hostnames): at most 63
/// characters of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "it has {} characters, at most 63 are allowed",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "`{c}` is not allowed (only lowercase letters, digits and `-`)"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1123 subdomain (DNS names): dot-separated labels, at most 253 characters.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!(
            "it has {} characters, at most 253 are allowed",
            s.len()
        ));
    }
    s.split('.')
        .try_for_each(|label| dns1123_label(label).map_err(|e| format!("label `{label}`: {e}")))
}

/// A Kubernetes label key: an optional DNS subdomain prefix and `/`, then a name of at
/// most 63 characters of alphanumerics, `-`, `_`, `.` that starts and ends alphanumeric.
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns1123_subdomain(p).map_err(|e| format!("prefix `{p}`: {e}"))?;
    }
    label_value(name).and_then(|_| {
        if name.is_empty() {
            Err("the name part is empty".into())
        } else {
            Ok(())
        }
    })
}

/// A Kubernetes label value: empty, or at most 63 alphanumerics, `-`, `_`, `.` starting and
/// ending alphanumeric.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!(
            "it has {} characters, at most 63 are allowed",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    let alnum = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
    if !alnum(s.chars().next()) || !alnum(s.chars().last()) {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// An environment variable name (POSIX portable: `[A-Za-z_][A-Za-z0-9_]*`).
pub fn env_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => Err("it is empty".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            Err("it must start with a letter or `_`".into())
        }
        _ => match chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
            Some(c) => Err(format!("`{c}` is not allowed")),
            None => Ok(()),
        },
    }
}

/// A version `vMAJOR.MINOR.PATCH` (an optional `-pre` suffix is kept out of the numbers).
pub fn version(s: &str) -> Result<(u32, u32, u32), String> {
    let bad = || "expected `vMAJOR.MINOR.PATCH`".to_string();
    let rest = s.strip_prefix('v').ok_or_else(bad)?;
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(|p| {
        if p.is_empty() || p.len() > 1 && p.starts_with('0') {
            Err(bad())
        } else {
            p.parse::<u32>().map_err(|_| bad())
        }
    });
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c), None) => Ok((a?, b?, c?)),
        _ => Err(bad()),
    }
}

/// An age X25519 recipient (`age1…`, Bech32).
pub fn age_recipient(s: &str) -> Result<(), String> {
    age::x25519::Recipient::from_str(s)
        .map(|_| ())
        .map_err(|_| {
            "expected an age X25519 public key (`age1…`, 62 characters, as `age-keygen -y` prints)"
                .into()
        })
}

/// A SHA-256 certificate fingerprint: 32 hex pairs separated by `:`.
pub fn sha256_fingerprint(s: &str) -> Result<(), String> {
    let pairs: Vec<&str> = s.split(':').collect();
    if pairs.len() == 32
        && pairs
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Ok(())
    } else {
        Err("expected a SHA-256 fingerprint: 32 hex pairs separated by `:`".into())
    }
}

/// An `https://` URL with a host.
pub fn https_url(s: &str) -> Result<url::Url, String> {
    if !s.contains("://") {
        return Err(format!("it has no scheme; write `https://{s}`"));
    }
    let u = url::Url::parse(s).map_err(|e| format!("it is not a URL ({e})"))?;
    if u.scheme() != "https" {
        return Err(format!("the scheme is `{}`, expected `https`", u.scheme()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(u)
}

/// A Git clone URL: `https://`, `http://`, `ssh://`, `git://`, `file://` or scp-like
/// `user@host:path`.
pub fn git_url(s: &str) -> Result<(), String> {
    if let Ok(u) = url::Url::parse(s) {
        return match u.scheme() {
            "https" | "http" | "ssh" | "git" | "file" => Ok(()),
            other => Err(format!("the scheme `{other}` is not one Git clones from")),
        };
    }
    match s.split_once(':') {
        Some((host, path)) if host.contains('@') && !path.is_empty() && !host.contains('/') => {
            Ok(())
        }
        _ => Err("expected `https://…`, `ssh://…` or `user@host:path`".into()),
    }
}

/// A Proxmox API token ID: `USER@REALM!TOKENNAME`.
pub fn proxmox_token_id(s: &str) -> Result<(), String> {
    let bad = || "expected `USER@REALM!TOKENNAME`, as `pveum user token list` shows it".to_string();
    let (user, token) = s.split_once('!').ok_or_else(bad)?;
    let (name, realm) = user.split_once('@').ok_or_else(bad)?;
    let token_ok = token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || realm.is_empty() || !token_ok {
        return Err(bad());
    }
    Ok(())
}

/// A repository-relative file path that stays inside the repository.
pub fn repo_relative_path(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.starts_with('/') || s.starts_with('~') {
        return Err("it must be relative to the repository root".into());
    }
    if s.split('/').any(|c| c == "..") {
        return Err("it must stay inside the repository (no `..`)".into());
    }
    Ok(())
}

/// A Prometheus duration (`15d`, `1w2d`, `12h30m`): units `y w d h m s ms` in that order,
/// each at most once.
pub fn prometheus_duration(s: &str) -> Result<(), String> {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let bad = || {
        "expected a duration such as `15d`, `2w` or `12h` (units y, w, d, h, m, s, ms)".to_string()
    };
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        rest = &rest[digits..];
        let unit = UNITS[next_unit..]
            .iter()
            .enumerate()
            // `ms` must win over `m` when both match.
            .filter(|(_, u)| rest.starts_with(**u) && !(**u == "m" && rest.starts_with("ms")))
            .map(|(i, u)| (i + next_unit, *u))
            .next()
            .ok_or_else(bad)?;
        next_unit = unit.0 + 1;
        rest = &rest[unit.1.len()..];
    }
    Ok(())
}

/// A cron schedule as Kubernetes CronJobs take it (robfig/cron's standard parser): five
/// fields `minute hour day-of-month month day-of-week` with `*`, `?`, lists, ranges,
/// steps and month/day names, or one of `@yearly @annually @monthly @weekly @daily
/// @midnight @hourly`.
///
/// Written here rather than taken from a crate: the cron crates on crates.io parse
/// 6- or 7-field (seconds/years) dialects and would accept schedules Kubernetes rejects.
pub fn cron(s: &str) -> Result<(), String> {
    const DESCRIPTORS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if s.starts_with('@') {
        return if DESCRIPTORS.contains(&s) {
            Ok(())
        } else {
            Err(format!(
                "unknown descriptor; expected one of {}",
                DESCRIPTORS.join(", ")
            ))
        };
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "it has {} fields, expected 5 (minute hour day-of-month month day-of-week)",
            fields.len()
        ));
    }
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day-of-month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day-of-week", 0, 6, &DAYS),
    ];
    for (field, (name, min, max, names)) in fields.iter().zip(specs) {
        let value = |v: &str| -> Result<u32, String> {
            let lower = v.to_ascii_lowercase();
            if let Some(i) = names.iter().position(|n| *n == lower) {
                return Ok(i as u32 + min);
            }
            match v.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(format!("{name} `{v}` is out of range {min}-{max}")),
            }
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, Some(st)),
                None => (part, None),
            };
            if let Some(st) = step
                && !st.parse::<u32>().is_ok_and(|n| n > 0)
            {
                return Err(format!("{name} step `{st}` must be a positive number"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            match range.split_once('-') {
                Some((a, b)) => {
                    if value(a)? > value(b)? {
                        return Err(format!("{name} range `{range}` runs backwards"));
                    }
                }
                None => {
                    value(range)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_label("mgmt-cp-1").is_ok());
        for bad in ["", "Mgmt", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert!(dns1123_label(bad).is_err(), "{bad:?}");
        }
        assert!(dns1123_subdomain("grafana.example.com").is_ok());
        assert!(dns1123_subdomain("grafana..example.com").is_err());
        assert!(label_key("node.kubernetes.io/role").is_ok());
        assert!(label_key("topology.kubernetes.io/zone").is_ok());
        assert!(label_key("Bad_Prefix/x").is_err());
        assert!(label_key("a/").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_x").is_ok());
        assert!(label_value("-x").is_err());
        assert!(env_name("PROXMOX_TOKEN").is_ok());
        assert!(env_name("1X").is_err() && env_name("A-B").is_err());
    }

    #[test]
    fn versions_and_keys() {
        assert_eq!(version("v1.11.6"), Ok((1, 11, 6)));
        assert_eq!(version("v1.12.0-beta.1"), Ok((1, 12, 0)));
        for bad in ["1.11.6", "v1.11", "v1.11.6.1", "v1.011.0", "vx.y.z"] {
            assert!(version(bad).is_err(), "{bad}");
        }
        assert!(
            age_recipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p").is_ok()
        );
        assert!(
            age_recipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8q")
                .is_err()
        );
        assert!(sha256_fingerprint(&["AB"; 32].join(":")).is_ok());
        assert!(sha256_fingerprint(&["AB"; 20].join(":")).is_err());
        assert!(proxmox_token_id("infraflux@pve!bootstrap").is_ok());
        assert!(proxmox_token_id("infraflux@pve").is_err());
        assert!(proxmox_token_id("@pve!x").is_err());
    }

    #[test]
    fn urls_and_paths() {
        assert!(https_url("https://pve1.lan:8006").is_ok());
        assert!(https_url("http://pve1.lan:8006").is_err());
        assert_eq!(
            https_url("pve1.lan:8006").unwrap_err(),
            "it has no scheme; write `https://pve1.lan:8006`"
        );
        assert!(git_url("https://github.com/example/x.git").is_ok());
        assert!(git_url("git@github.com:example/x.git").is_ok());
        assert!(git_url("github.com/example").is_err());
        assert!(repo_relative_path("secrets/a.sops.yaml").is_ok());
        assert!(repo_relative_path("/etc/x").is_err() && repo_relative_path("../x").is_err());
    }

    #[test]
    fn durations() {
        for ok in ["15d", "2w", "12h30m", "1y", "500ms", "1h1ms"] {
            assert!(prometheus_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["", "15", "d", "15days", "1m1h", "1d1d", "-1d"] {
            assert!(prometheus_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cron_schedules() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 0 1 jan,jul mon-fri",
            "@daily",
            "0 0 ? * SUN",
        ] {
            assert!(cron(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0 2 * *",
            "60 * * * *",
            "0 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "5-1 * * * *",
            "*/0 * * * *",
            "@often",
            "0 2 * * * *",
        ] {
            assert!(cron(bad).is_err(), "{bad}");
        }
    }
}

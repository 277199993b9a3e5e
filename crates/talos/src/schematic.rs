//! Image Factory schematics: the customization of the Talos image every node boots, and its
//! content-addressed ID.
//!
//! The Image Factory (siderolabs/image-factory `pkg/schematic`) computes a schematic's ID as
//! the lowercase hex SHA-256 of the schematic marshalled by Go's `gopkg.in/yaml.v3`
//! (`yaml.Marshal`, 4-space indentation), with its fields in struct order: `overlay`, then
//! `customization` (`extraKernelArgs`, `meta`, `systemExtensions.officialExtensions`,
//! `secureboot`), empty fields omitted and `customization` always present. To get the same
//! ID locally the bytes must be the same, so this module emits that YAML itself rather than
//! through a general serializer: the shape is fixed and small, and the scalar quoting follows
//! libyaml's analysis as yaml.v3 applies it.
//!
//! InfraFlux's nodes are Proxmox VMs (amd64, no overlay, no SecureBoot), so only
//! `extraKernelArgs` and `officialExtensions` are produced.

use std::fmt::Write as _;

use infraflux_spec::model::Talos;
use sha2::{Digest, Sha256};

/// The Talos image customization of a platform's nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Schematic {
    /// Extra kernel command-line arguments, in order.
    pub extra_kernel_args: Vec<String>,
    /// Official system extensions (`siderolabs/<name>`), in order.
    pub official_extensions: Vec<String>,
}

/// Where the nodes' Talos images are, for one schematic and Talos version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FactoryImages {
    /// The schematic ID.
    pub schematic_id: String,
    /// Installer container image for `machine.install.image` and upgrades.
    pub installer: String,
    /// Disk image Proxmox downloads and imports as the VM disk (nocloud platform).
    pub disk_image: String,
    /// Boot ISO (nocloud platform), for installing by hand.
    pub iso: String,
}

impl Schematic {
    /// The schematic of a resolved spec's Talos settings (the resolver has already added
    /// the extensions the platform needs and put them in canonical order).
    pub fn from_spec(talos: &Talos) -> Self {
        Self {
            extra_kernel_args: talos.schematic.extra_kernel_args.clone(),
            official_extensions: talos.schematic.extensions.clone(),
        }
    }

    /// The schematic as the Image Factory stores it (`POST /schematics` accepts it as is).
    pub fn to_yaml(&self) -> String {
        let mut out = String::from("customization:");
        if self.extra_kernel_args.is_empty() && self.official_extensions.is_empty() {
            out.push_str(" {}\n");
            return out;
        }
        out.push('\n');
        if !self.extra_kernel_args.is_empty() {
            out.push_str("    extraKernelArgs:\n");
            for arg in &self.extra_kernel_args {
                let _ = writeln!(out, "        - {}", scalar(arg));
            }
        }
        if !self.official_extensions.is_empty() {
            out.push_str("    systemExtensions:\n        officialExtensions:\n");
            for ext in &self.official_extensions {
                let _ = writeln!(out, "            - {}", scalar(ext));
            }
        }
        out
    }

    /// The schematic ID: lowercase hex SHA-256 of [`Self::to_yaml`].
    pub fn id(&self) -> String {
        Sha256::digest(self.to_yaml().as_bytes()).iter().fold(
            String::with_capacity(64),
            |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            },
        )
    }

    /// The image URLs for Talos `version` from the factory at `factory` (a URL such as
    /// `https://factory.talos.dev`). Installer images use the platform form
    /// (`nocloud-installer`) from Talos v1.10 on, the legacy `installer` form before, as
    /// the factory's UI does.
    pub fn images(&self, factory: &str, version: &str) -> FactoryImages {
        let id = self.id();
        let base = factory.trim_end_matches('/');
        let registry = base.split_once("://").map_or(base, |(_, host)| host);
        let unified = parse_minor(version).is_some_and(|(major, minor)| (major, minor) >= (1, 10));
        let installer = if unified {
            "nocloud-installer"
        } else {
            "installer"
        };
        FactoryImages {
            installer: format!("{registry}/{installer}/{id}:{version}"),
            disk_image: format!("{base}/image/{id}/{version}/nocloud-amd64.raw.xz"),
            iso: format!("{base}/image/{id}/{version}/nocloud-amd64.iso"),
            schematic_id: id,
        }
    }
}

fn parse_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.strip_prefix('v')?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// A string scalar as yaml.v3 emits it in block context: double-quoted when it
/// would read back as another type (or a YAML 1.1 boolean, or a base-60 float), plain when
/// libyaml allows a plain scalar, single-quoted otherwise, double-quoted when it holds
/// characters single quotes cannot carry.
fn scalar(s: &str) -> String {
    if s.is_empty() || !resolves_to_string(s) || is_old_bool(s) || is_base60_float(s) {
        return double_quoted(s);
    }
    let a = analyze(s);
    if a.block_plain_allowed {
        s.to_string()
    } else if a.single_quoted_allowed {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// yaml.v3's `resolve` for an untagged plain scalar: whether it reads back as a string.
fn resolves_to_string(s: &str) -> bool {
    const NON_STRINGS: [&str; 18] = [
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", ".inf",
        ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
    ];
    if NON_STRINGS.contains(&s)
        || s == "+.inf"
        || s == "+.Inf"
        || s == "+.INF"
        || s == ".NAN"
        || s == "<<"
    {
        return false;
    }
    !(is_yaml_int(s) || is_yaml_float(s))
}

fn is_yaml_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let plain = body.replace('_', "");
    if let Some(hex) = plain.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(bin) = plain.strip_prefix("0b") {
        return !bin.is_empty() && bin.chars().all(|c| c == '0' || c == '1');
    }
    if let Some(oct) = plain.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    !plain.is_empty()
        && plain.chars().all(|c| c.is_ascii_digit())
        && body.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn is_yaml_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s).replace('_', "");
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body.as_str(), None),
    };
    let digits = mantissa.chars().filter(char::is_ascii_digit).count();
    let mantissa_ok = digits > 0
        && mantissa.matches('.').count() <= 1
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

/// YAML 1.1 booleans, which yaml.v3 quotes so that YAML 1.1 readers keep them strings.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 base-60 floats (`1:20`), which yaml.v3 also quotes.
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut parts = body.split(':');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && first
            .chars()
            .next()
            .is_some_and(|c| ('1'..='9').contains(&c))
        && first.chars().all(|c| c.is_ascii_digit() || c == '_')
        && rest.iter().enumerate().all(|(i, p)| {
            let last = i == rest.len() - 1;
            let (int, frac) = if last {
                p.split_once('.').unwrap_or((p, ""))
            } else {
                (*p, "")
            };
            !int.is_empty()
                && int.len() <= 2
                && int.chars().all(|c| c.is_ascii_digit())
                && int.parse::<u32>().is_ok_and(|n| n < 60)
                && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
        })
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar`, for the block context.
fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut special = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let blank = |c: Option<&char>| {
        c.is_none_or(|c| {
            matches!(
                c,
                ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
            )
        })
    };
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = blank(chars.get(i + 1));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_whitespace => block_indicators = true,
                '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        let printable = matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
            && c != '\u{feff}';
        if !printable {
            special = true;
        }
        let is_break = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if is_break {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break {
            if i == 0 {
                leading_break = true;
            }
            if i == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = blank(Some(&c));
    }
    let mut block_plain_allowed = true;
    let mut single_quoted_allowed = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        block_plain_allowed = false;
    }
    if trailing_space || break_space {
        single_quoted_allowed = false;
    }
    if space_break || special {
        block_plain_allowed = false;
        single_quoted_allowed = false;
    }
    if line_breaks || block_indicators {
        block_plain_allowed = false;
    }
    Analysis {
        block_plain_allowed,
        single_quoted_allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(args: &[&str], exts: &[&str]) -> Schematic {
        Schematic {
            extra_kernel_args: args.iter().map(|s| s.to_string()).collect(),
            official_extensions: exts.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The IDs siderolabs/image-factory publishes (README, `pkg/schematic/schematic_test.go`)
    /// and the widely used guest-agent schematic.
    #[test]
    fn published_schematic_ids_are_reproduced() {
        assert_eq!(
            with(&[], &[]).id(),
            "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
        );
        assert_eq!(
            with(&[], &["siderolabs/qemu-guest-agent"]).id(),
            "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
        );
    }

    #[test]
    fn kernel_args_come_before_extensions_with_block_sequences() {
        let s = with(&["noapic", "nolapic"], &["siderolabs/iscsi-tools"]);
        assert_eq!(
            s.to_yaml(),
            "customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/iscsi-tools\n"
        );
    }

    #[test]
    fn scalars_are_quoted_as_yaml_v3_quotes_them() {
        for (input, want) in [
            ("net.ifnames=0", "net.ifnames=0"),
            ("console=ttyS0,115200", "console=ttyS0,115200"),
            ("-talos.halt_if_installed", "-talos.halt_if_installed"),
            ("true", "\"true\""),
            ("123", "\"123\""),
            ("1.5", "\"1.5\""),
            ("0x1F", "\"0x1F\""),
            ("yes", "\"yes\""),
            ("off", "\"off\""),
            ("null", "\"null\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("1:20", "\"1:20\""),
            ("{}", "'{}'"),
            ("*star", "'*star'"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("it's: x", "'it''s: x'"),
            (" lead", "' lead'"),
        ] {
            assert_eq!(scalar(input), want, "{input:?}");
        }
    }

    #[test]
    fn image_urls_follow_the_factory() {
        let s = with(&[], &["siderolabs/qemu-guest-agent"]);
        let id = s.id();
        let i = s.images("https://factory.talos.dev", "v1.11.6");
        assert_eq!(
            i.installer,
            format!("factory.talos.dev/nocloud-installer/{id}:v1.11.6")
        );
        assert_eq!(
            i.disk_image,
            format!("https://factory.talos.dev/image/{id}/v1.11.6/nocloud-amd64.raw.xz")
        );
        assert_eq!(
            i.iso,
            format!("https://factory.talos.dev/image/{id}/v1.11.6/nocloud-amd64.iso")
        );
        let old = s.images("https://factory.example.net/", "v1.9.5");
        assert_eq!(
            old.installer,
            format!("factory.example.net/installer/{id}:v1.9.5")
        );
    }
}

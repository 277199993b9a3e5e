//! IPv4 address ranges as users write them in pools: `START-END`, `CIDR` or one address.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An inclusive IPv4 range. `start > end` parses (so that the semantic check can report it
/// with its location) and [`IpRange::is_well_formed`] says whether it is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpRange {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address (inclusive).
    pub end: Ipv4Addr,
    /// How the range was written, kept so that it serializes back the same way.
    form: RangeForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RangeForm {
    Span,
    Cidr(u8),
    Single,
}

impl IpRange {
    /// The range `start-end`.
    pub fn new(start: Ipv4Addr, end: Ipv4Addr) -> Self {
        Self {
            start,
            end,
            form: RangeForm::Span,
        }
    }

    /// Whether `start <= end`.
    pub fn is_well_formed(&self) -> bool {
        self.start <= self.end
    }

    /// Number of addresses (0 when not well formed).
    pub fn len(&self) -> u64 {
        if self.is_well_formed() {
            u64::from(u32::from(self.end)) - u64::from(u32::from(self.start)) + 1
        } else {
            0
        }
    }

    /// Whether the range holds no address.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `ip` lies in the range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.start <= ip && ip <= self.end
    }

    /// Whether the two ranges share an address.
    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.is_well_formed()
            && other.is_well_formed()
            && self.start <= other.end
            && other.start <= self.end
    }

    /// Whether the whole range lies inside `net`.
    pub fn within(&self, net: &Ipv4Net) -> bool {
        net.contains(&self.start) && net.contains(&self.end)
    }

    /// The range of a CIDR.
    pub fn from_net(net: &Ipv4Net) -> Self {
        Self {
            start: net.network(),
            end: net.broadcast(),
            form: RangeForm::Cidr(net.prefix_len()),
        }
    }
}

/// Why a range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeParseError {
    /// Not a range at all.
    #[error("`{0}` is not an IPv4 range: expected `START-END`, `ADDRESS/PREFIX` or `ADDRESS`")]
    Syntax(String),
    /// A CIDR whose address has host bits set.
    #[error("`{0}` has host bits set: did you mean `{1}`?")]
    HostBits(String, Ipv4Net),
}

impl FromStr for IpRange {
    type Err = RangeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RangeParseError::Syntax(s.to_string());
        let s = s.trim();
        if let Some((a, b)) = s.split_once('-') {
            let start = a.trim().parse().map_err(|_| err())?;
            let end = b.trim().parse().map_err(|_| err())?;
            Ok(Self {
                start,
                end,
                form: RangeForm::Span,
            })
        } else if s.contains('/') {
            let net: Ipv4Net = s.parse().map_err(|_| err())?;
            // A CIDR with host bits set is almost always a typo for its network.
            if net.addr() != net.network() {
                return Err(RangeParseError::HostBits(s.to_string(), net.trunc()));
            }
            Ok(Self::from_net(&net))
        } else {
            let ip: Ipv4Addr = s.parse().map_err(|_| err())?;
            Ok(Self {
                start: ip,
                end: ip,
                form: RangeForm::Single,
            })
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            RangeForm::Span => write!(f, "{}-{}", self.start, self.end),
            RangeForm::Cidr(prefix) => write!(f, "{}/{}", self.start, prefix),
            RangeForm::Single => write!(f, "{}", self.start),
        }
    }
}

impl TryFrom<String> for IpRange {
    type Error = RangeParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<IpRange> for String {
    fn from(r: IpRange) -> String {
        r.to_string()
    }
}

impl JsonSchema for IpRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IpRange".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "IPv4 range: `START-END`, `ADDRESS/PREFIX` or `ADDRESS`.",
            "pattern": r"^\d{1,3}(\.\d{1,3}){3}(-\d{1,3}(\.\d{1,3}){3}|/\d{1,2})?$"
        })
    }
}

/// A Kubernetes resource quantity (`"8"`, `500m`, `16Gi`), written as a string or a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "QuantityInput", into = "String")]
pub struct Quantity(String);

#[derive(Deserialize)]
#[serde(untagged)]
enum QuantityInput {
    Int(u64),
    Float(f64),
    Text(String),
}

impl From<QuantityInput> for Quantity {
    fn from(v: QuantityInput) -> Self {
        Quantity(match v {
            QuantityInput::Int(i) => i.to_string(),
            QuantityInput::Float(f) => f.to_string(),
            QuantityInput::Text(s) => s,
        })
    }
}

impl From<Quantity> for String {
    fn from(q: Quantity) -> String {
        q.0
    }
}

impl Quantity {
    /// The quantity as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is a Kubernetes quantity: a decimal number followed by an optional
    /// suffix (`m`, `k`, `M`, `G`, `T`, `P`, `E`, `Ki`…`Ei`) or a decimal exponent
    /// (`e3`, `E-2`), as `k8s.io/apimachinery/pkg/api/resource` parses it.
    pub fn is_valid(&self) -> bool {
        // Quotas and requests are never negative.
        let s = self.0.as_str();
        let s = s.strip_prefix('+').unwrap_or(s);
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(num_end);
        let digits_ok = !num.is_empty()
            && num.matches('.').count() <= 1
            && num.chars().any(|c| c.is_ascii_digit());
        let suffix_ok = matches!(
            suffix,
            "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
        ) || suffix
            .strip_prefix(['e', 'E'])
            .map(|exp| {
                let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit())
            })
            .unwrap_or(false);
        digits_ok && suffix_ok
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Kubernetes quantity: `\"8\"`, `500m`, `16Gi`.",
            "anyOf": [{ "type": "string" }, { "type": "number" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms_and_prints_them_back() {
        for s in ["192.168.10.200-192.168.10.220", "10.0.0.0/24", "10.0.0.7"] {
            let r: IpRange = s.parse().unwrap();
            assert_eq!(r.to_string(), s);
        }
        let r: IpRange = "10.0.0.0/30".parse().unwrap();
        assert_eq!(
            (r.start, r.end, r.len()),
            ("10.0.0.0".parse().unwrap(), "10.0.0.3".parse().unwrap(), 4)
        );
    }

    #[test]
    fn rejects_garbage_and_host_bits_but_keeps_reversed_ranges_for_the_checker() {
        assert!("10.0.0.1/24".parse::<IpRange>().is_err());
        assert!("10.0.0.300".parse::<IpRange>().is_err());
        assert!("a-b".parse::<IpRange>().is_err());
        let r: IpRange = "10.0.0.9-10.0.0.1".parse().unwrap();
        assert!(!r.is_well_formed());
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn overlap_is_symmetric_and_inclusive() {
        let a: IpRange = "10.0.0.1-10.0.0.10".parse().unwrap();
        let b: IpRange = "10.0.0.10-10.0.0.20".parse().unwrap();
        let c: IpRange = "10.0.0.11-10.0.0.20".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
    }

    #[test]
    fn quantities_follow_kubernetes_syntax() {
        for ok in ["8", "500m", "16Gi", "1.5", "1e3", "2E-2", "+1"] {
            assert!(Quantity(ok.into()).is_valid(), "{ok}");
        }
        for bad in ["", "16GB", "abc", "1..2", "Gi", "1e", "-4"] {
            assert!(!Quantity(bad.into()).is_valid(), "{bad}");
        }
    }
}

//! "Did you mean …?" suggestions.

/// The known name closest to `input`, if it is close enough to be a likely typo: equal
/// ignoring case, or within a Jaro-Winkler similarity of 0.8 (the measure `clap` uses for
/// its own suggestions).
pub fn did_you_mean<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        if k.eq_ignore_ascii_case(input) {
            return Some(k);
        }
        let score = strsim::jaro_winkler(&lower, &k.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, k));
        }
    }
    best.map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_case_and_typo_fixes_only() {
        let known = ["nodeCIDR", "podCIDR", "gateway"];
        assert_eq!(did_you_mean("nodeCidr", known), Some("nodeCIDR"));
        assert_eq!(did_you_mean("gatway", known), Some("gateway"));
        assert_eq!(did_you_mean("banana", known), None);
    }
}

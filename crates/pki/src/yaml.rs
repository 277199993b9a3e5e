//! YAML as the tools that read our files write it: Talos (Go yaml.v3, 4-space indentation)
//! and client-go (2 spaces); every value on one line.

/// Serializes `value` with yaml.v3's layout.
pub(crate) fn to_go_yaml<T: serde::Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 4;
    options.prefer_block_scalars = false;
    options.compact_list_indent = false;
    serde_saphyr::to_string_with_options(value, options).expect("plain data always serializes")
}

/// Serializes `value` with client-go's layout (2-space indentation).
pub(crate) fn to_kube_yaml<T: serde::Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(value, options).expect("plain data always serializes")
}

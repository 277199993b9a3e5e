//! YAML as the Talos tools (Go yaml.v3) write it: 4-space indentation, every value on one
//! line.

/// Serializes `value` with yaml.v3's layout.
pub(crate) fn to_go_yaml<T: serde::Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 4;
    options.prefer_block_scalars = false;
    options.compact_list_indent = false;
    serde_saphyr::to_string_with_options(value, options).expect("plain data always serializes")
}

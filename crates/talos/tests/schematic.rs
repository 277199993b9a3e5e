//! The schematic ID does not depend on how the spec is written: the order of keys in the
//! `schematic` mapping, or of the extensions, changes nothing.

use infraflux_talos::Schematic;
use proptest::prelude::*;

const EXTENSIONS: [&str; 5] = [
    "siderolabs/intel-ucode",
    "siderolabs/iscsi-tools",
    "siderolabs/qemu-guest-agent",
    "siderolabs/util-linux-tools",
    "siderolabs/nut-client",
];

fn spec(schematic_yaml: &str) -> String {
    let homelab = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/homelab.yaml"
    ))
    .unwrap();
    let start = homelab.find("    schematic:\n").unwrap();
    let end = start + homelab[start..].find("    installDisk:").unwrap();
    format!("{}{}{}", &homelab[..start], schematic_yaml, &homelab[end..])
}

fn id_of(schematic_yaml: &str) -> String {
    let platform = infraflux_spec::load_str("spec.yaml", &spec(schematic_yaml))
        .unwrap()
        .platform;
    Schematic::from_spec(&platform.spec.talos).id()
}

proptest! {
    #[test]
    fn id_is_stable_under_reordering(exts in Just(EXTENSIONS.to_vec()).prop_shuffle(), args_first in any::<bool>(), flow in any::<bool>()) {
        let ext_list = if flow {
            format!("      extensions: [{}]\n", exts.join(", "))
        } else {
            format!("      extensions:\n{}", exts.iter().map(|e| format!("        - {e}\n")).collect::<String>())
        };
        let args = "      extraKernelArgs: [net.ifnames=0]\n";
        let body = if args_first { format!("{args}{ext_list}") } else { format!("{ext_list}{args}") };
        let id = id_of(&format!("    schematic:\n{body}"));
        let canonical = id_of(&format!("    schematic:\n      extensions: [{}]\n{args}", EXTENSIONS.join(", ")));
        prop_assert_eq!(id, canonical);
    }
}

#[test]
fn examples_get_the_extensions_their_components_need() {
    let homelab = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/homelab.yaml"
    ))
    .unwrap();
    let platform = infraflux_spec::load_str("homelab.yaml", &homelab)
        .unwrap()
        .platform;
    let s = Schematic::from_spec(&platform.spec.talos);
    // Longhorn is on in the homelab: iSCSI and util-linux tools join the guest agent.
    assert_eq!(
        s.to_yaml(),
        "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/intel-ucode\n            - siderolabs/iscsi-tools\n            - siderolabs/qemu-guest-agent\n            - siderolabs/util-linux-tools\n"
    );
}

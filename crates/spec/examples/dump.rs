//! Prints the diagnostics of a spec file, one per line (a debugging aid).
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let a = infraflux_spec::analyze(&infraflux_spec::Source::new(path.clone(), text));
    for d in &a.diagnostics {
        println!(
            "{} | hint: {:?} | path {}",
            d.one_line(&path),
            d.hint,
            d.path
        );
    }
}

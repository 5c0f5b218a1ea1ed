//! Every case the fuzzers once found, kept in `fuzz/regressions/<target>/`, replayed
//! through the target's checks (`ghor_domain::fuzzing`) on every `cargo test`.

use std::path::Path;

#[test]
fn every_kept_fuzz_case_passes_its_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 4] = [
        ("envelope", ghor_domain::fuzzing::envelope),
        ("batch", ghor_domain::fuzzing::batch),
        ("registry_csv", ghor_domain::fuzzing::registry_csv),
        ("merge_patch", ghor_domain::fuzzing::merge_patch),
    ];
    let mut replayed = 0;
    for (target, check) in targets {
        let Ok(cases) = std::fs::read_dir(root.join(target)) else { continue };
        for case in cases.flatten() {
            let data = std::fs::read(case.path()).expect("read a kept case");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails again", case.path().display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} kept fuzz cases");
}

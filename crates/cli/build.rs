//! Links libtorch into `srl-swe-torch` only, with an rpath so it runs without LD_LIBRARY_PATH,
//! and keeps libtorch_cuda linked when present (tch-rs issues #907, #980). The main `srl-swe`
//! binary references no libtorch symbol, so the linker's default `--as-needed` leaves libtorch
//! out of it (checked by the e2e test `main_binary_does_not_link_libtorch`).
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg-bin=srl-swe-torch=-Wl,-rpath,{lib}");
    }
    println!("cargo:rustc-link-arg-bin=srl-swe-torch=-Wl,--no-as-needed");
}

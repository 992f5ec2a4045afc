//! Links libtorch with an rpath so binaries and tests run without LD_LIBRARY_PATH, and keeps
//! libtorch_cuda linked when present (tch-rs issues #907, #980).
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
}

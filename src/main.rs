fn main() -> std::process::ExitCode {
    secinfo::cli::main()
}

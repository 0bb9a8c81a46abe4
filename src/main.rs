fn main() -> std::process::ExitCode {
    mashov::cli::run()
}

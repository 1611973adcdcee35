//! Thin entry point: parse, validate, run, and turn any error into one line and an exit code.

use std::process::ExitCode;

use deskcam::config::{self, Command, Env};

fn main() -> ExitCode {
    let env = Env::from_process();
    let command = match config::parse(std::env::args_os().skip(1), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("deskcam: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            print!("{}", config::help());
            ExitCode::SUCCESS
        }
        Command::Generate(what) => {
            print!("{}", config::generate(what, &env));
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("deskcam {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::ListDevices => {
            print!("{}", deskcam::source::camera::list::devices());
            ExitCode::SUCCESS
        }
        Command::ListFormats(device) => listing(deskcam::source::camera::list::formats(&device)),
        Command::ListControls(device) => listing(deskcam::source::camera::list::controls(&device)),
        Command::Run(config) => {
            deskcam::logger::init(config.log_level);
            match deskcam::run(*config) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("deskcam: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
    }
}

/// A `--list-*` answer: the text on stdout, or its error as one line and exit status 2.
fn listing<E: std::fmt::Display>(result: Result<String, E>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deskcam: {e}");
            ExitCode::from(2)
        }
    }
}

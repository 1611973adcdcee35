//! The report a script run in the V4L2 test bed's guest prints, one line per fact: `PASS name
//! ...`, `FAIL name: why`, `INFO ...` (figures, shown with `--nocapture`) and `DONE` at the end.
//! The camera scenarios and the package's systemd checks both speak it.

use std::process::Output;

/// The guest's whole output, stdout then stderr.
pub struct Report {
    pub text: String,
}

impl Report {
    /// Reads the guest's output and prints its INFO lines to the test's stderr.
    pub fn of(out: &Output) -> Report {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for line in text.lines().filter(|l| l.starts_with("INFO")) {
            eprintln!("{line}");
        }
        Report { text }
    }

    /// Every FAIL line.
    pub fn failed(&self) -> Vec<String> {
        self.text
            .lines()
            .filter(|l| l.starts_with("FAIL"))
            .map(str::to_string)
            .collect()
    }

    /// The checks of `expected` that no PASS line names.
    pub fn missing<'a>(&self, expected: &[&'a str]) -> Vec<&'a str> {
        let passed = |name: &str| {
            self.text
                .lines()
                .any(|l| l.strip_prefix("PASS ").and_then(|r| r.split(' ').next()) == Some(name))
        };
        expected.iter().copied().filter(|n| !passed(n)).collect()
    }

    /// Whether the script got to its end.
    pub fn done(&self) -> bool {
        self.text.lines().any(|l| l == "DONE")
    }
}

//! Shell completions for bash and zsh, made from the flag table: every flag (the hidden
//! `--generate` too), and for a value its choices, file names, folders or `/dev/video*`.
//! `deskcam --generate complete-bash|complete-zsh` prints them; `make install` and the Debian
//! packages install them where bash-completion and zsh look (tools/install.sh).

use super::flags::{ALL, Complete, Flag};

/// The bash script: a completion function for `complete -F`.
pub fn bash() -> String {
    let mut cases = String::new();
    for flag in ALL.iter().filter(|f| f.value.is_some()) {
        let reply = match flag.complete {
            Complete::Text => "return".to_string(),
            Complete::Choices(words) => format!(
                "COMPREPLY=($(compgen -W '{}' -- \"$cur\")); return",
                words.join(" ")
            ),
            Complete::File => {
                "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return".into()
            }
            Complete::Directory => {
                "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")); return".into()
            }
            // With nothing typed yet, the video devices there are.
            Complete::Device => {
                "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"${cur:-/dev/video}\")); return"
                    .into()
            }
        };
        cases.push_str(&format!("        {}) {reply} ;;\n", names(flag).join("|")));
    }
    let all: Vec<String> = ALL.iter().flat_map(|f| names(f)).collect();
    format!(
        "# bash completion for deskcam(1), made from its flag table by `deskcam --generate complete-bash`.
_deskcam() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    # bash splits `--flag=value` at the '=' (COMP_WORDBREAKS): complete the value all the same.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev=${{COMP_WORDS[COMP_CWORD-2]}}
    fi
    case $prev in
{cases}    esac
    COMPREPLY=($(compgen -W '{}' -- \"$cur\"))
}}
complete -F _deskcam deskcam
",
        all.join(" ")
    )
}

/// The zsh script: a `#compdef` function for `_arguments`.
pub fn zsh() -> String {
    let mut specs = String::new();
    for flag in ALL {
        let about = zsh_quote(&bracketed(short_doc(flag)));
        let value = flag.value.map(|name| {
            let action = match flag.complete {
                Complete::Text => " ".to_string(),
                Complete::Choices(words) => format!("({})", words.join(" ")),
                Complete::File => "_files".into(),
                Complete::Directory => "_files -/".into(),
                Complete::Device => {
                    "{local -a devices=(/dev/video*(N)); compadd -a devices}".into()
                }
            };
            zsh_quote(&format!(":{}:{action}", name.replace(':', "\\:")))
        });
        let line = match (flag.short, value) {
            (Some(s), None) => format!("'(-{s} --{l})'{{-{s},--{l}}}'[{about}]'", l = flag.long),
            (Some(s), Some(v)) => {
                format!("'(-{s} --{l})'{{-{s},--{l}=}}'[{about}]{v}'", l = flag.long)
            }
            (None, None) => format!("'--{}[{about}]'", flag.long),
            (None, Some(v)) => {
                let repeat = if flag.repeats { "*" } else { "" };
                format!("'{repeat}--{}=[{about}]{v}'", flag.long)
            }
        };
        specs.push_str(&format!("    {line} \\\n"));
    }
    format!(
        "#compdef deskcam
# zsh completion for deskcam(1), made from its flag table by `deskcam --generate complete-zsh`.
_deskcam() {{
  _arguments -s -S : \\
{specs}    && return 0
  return 1
}}
_deskcam \"$@\"
"
    )
}

/// `--name` and `-s`.
fn names(flag: &Flag) -> Vec<String> {
    let mut out = vec![format!("--{}", flag.long)];
    out.extend(flag.short.map(|s| format!("-{s}")));
    out
}

/// The doc up to its first aside, which is what fits beside a completion.
fn short_doc(flag: &Flag) -> String {
    let doc = flag.doc_text();
    let end = [" (", "; ", ": "]
        .iter()
        .filter_map(|stop| doc.find(stop))
        .min()
        .unwrap_or(doc.len());
    doc[..end].to_string()
}

/// A description inside `_arguments`' brackets.
fn bracketed(s: String) -> String {
    s.replace('[', "\\[").replace(']', "\\]")
}

/// Text for inside single quotes.
fn zsh_quote(s: &str) -> String {
    s.replace('\'', "'\\''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_completed_by_both_shells() {
        let (b, z) = (bash(), zsh());
        for f in ALL {
            assert!(b.contains(&format!(" --{}", f.long)), "bash: --{}", f.long);
            assert!(z.contains(&format!("--{}", f.long)), "zsh: --{}", f.long);
        }
        assert!(b.contains("--source) COMPREPLY=($(compgen -W 'pattern screen camera'"));
        assert!(
            z.contains("'--source=[what to stream]:pattern|screen|camera:(pattern screen camera)'")
        );
        assert!(z.contains("'*--set=["));
        assert!(z.contains("'(-q --quiet)'{-q,--quiet}'["));
    }

    #[test]
    fn asides_are_left_out_of_zsh_descriptions() {
        assert_eq!(
            short_doc(&crate::config::flags::CONTROL),
            "let authorised viewers click and type"
        );
        assert_eq!(bracketed("[a]".into()), "\\[a\\]");
        assert_eq!(zsh_quote("it's"), "it'\\''s");
    }
}

//! `yida completions <shell>`: a shell completion script. The script clap generates (every
//! subcommand and flag, with the action names as the values of `call`'s and `schema`'s first
//! argument), plus a hook that asks `yida __complete` while completing `yida call`: action
//! names, then the operation's parameter names (`formUuid=`), its flags and their values.

use crate::fail::Fail;
use clap_complete::Shell;

/// Print a completion script for a shell, e.g. `yida completions bash > /etc/bash_completion.d/yida`,
/// `source <(yida completions zsh)`, `yida completions fish > ~/.config/fish/completions/yida.fish`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: Shell,
}

/// The words of a command line after `yida`, the last one being completed (maybe empty).
#[derive(clap::Args, Debug)]
pub struct CompleteArgs {
    /// The words.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Every action name, once, sorted.
fn actions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = yida_api::operations().iter().map(|o| o.action).collect();
    names.sort_unstable();
    names.dedup();
    names
}

const BASH_HOOK: &str = r#"
# Dynamic part: `yida call <Action> <TAB>` completes the operation's parameter names.
_yida_dynamic() {
    if [[ "${COMP_WORDS[1]}" == call ]]; then
        local IFS=$'\n'
        COMPREPLY=( $(yida __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
        if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    _yida "$@"
}
complete -F _yida_dynamic -o bashdefault -o default yida
"#;

const ZSH_HOOK: &str = r#"
# Dynamic part: `yida call <Action> <TAB>` completes the operation's parameter names.
_yida_dynamic() {
    if [[ "${words[2]}" == call ]]; then
        local -a found
        found=("${(@f)$(yida __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
        found=(${found:#})
        compadd -- ${found:#*=}
        compadd -S '' -- ${(M)found:#*=}
        return 0
    fi
    _yida "$@"
}
compdef _yida_dynamic yida
"#;

const FISH_HOOK: &str = r#"
# Dynamic part: `yida call <Action> <TAB>` completes the operation's parameter names.
complete -c yida -n '__fish_seen_subcommand_from call; and test (count (commandline -opc)) -ge 3' -f -a '(yida __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
"#;

/// Writes the script to stdout.
pub async fn run(args: CompletionsArgs) -> Result<(), Fail> {
    let names = actions();
    let with_actions = |c: clap::Command| {
        c.mut_arg("action", |a| {
            a.value_parser(clap::builder::PossibleValuesParser::new(names.clone()))
        })
    };
    let mut cmd = crate::command()
        .mut_subcommand("call", with_actions)
        .mut_subcommand("schema", with_actions);
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "yida", &mut script);
    let mut text = String::from_utf8_lossy(&script).into_owned();
    match args.shell {
        Shell::Bash => text.push_str(BASH_HOOK),
        Shell::Zsh => text.push_str(ZSH_HOOK),
        Shell::Fish => {
            // clap's fish script completes no positional values: the action list here.
            text.push_str(&format!(
                "\n# Action names after `yida call` and `yida schema`.\ncomplete -c yida -n \
                 '__fish_seen_subcommand_from call schema; and test (count (commandline -opc)) \
                 -eq 2' -f -a '{}'\n",
                names.join(" ")
            ));
            text.push_str(FISH_HOOK);
        }
        _ => {}
    }
    crate::out::stdout(&text)
}

/// `yida __complete <words…>`: the candidates for the last word, one per line.
pub async fn complete(args: CompleteArgs) -> Result<(), Fail> {
    let mut out = String::new();
    for c in candidates(&args.words) {
        out.push_str(&c);
        out.push('\n');
    }
    crate::out::stdout(&out)
}

/// The candidates for the last of `words` (the words after `yida`).
pub fn candidates(words: &[String]) -> Vec<String> {
    let Some((cur, before)) = words.split_last() else {
        return vec![];
    };
    let mut cmd = crate::command();
    cmd.build();
    let Some(call) = cmd.find_subcommand("call") else {
        return vec![];
    };
    // Flags of `call` (its own and the global ones) and whether each takes a value.
    let flags: Vec<(String, bool)> = call
        .get_arguments()
        .chain(cmd.get_arguments())
        .filter(|a| !a.is_positional())
        .flat_map(|a| {
            let takes = a.get_action().takes_values();
            let mut names: Vec<String> = Vec::new();
            if let Some(l) = a.get_long() {
                names.push(format!("--{l}"));
            }
            if let Some(s) = a.get_short() {
                names.push(format!("-{s}"));
            }
            names.into_iter().map(move |n| (n, takes))
        })
        .collect();
    let takes_value = |w: &str| flags.iter().any(|(n, t)| *t && n == w);
    // The positional words after `call`: the action, then NAME=VALUE pieces.
    let mut positional: Vec<&str> = Vec::new();
    let mut skip = true; // `call` itself
    let mut value_of: Option<&str> = None;
    for w in before {
        if skip {
            skip = false;
            continue;
        }
        if let Some(flag) = value_of.take() {
            let _ = flag;
            continue;
        }
        if w.starts_with('-') {
            if !w.contains('=') && takes_value(w) {
                value_of = Some(w);
            }
            continue;
        }
        positional.push(w);
    }
    let lower = cur.to_lowercase();
    let prefix = |c: &str| c.to_lowercase().starts_with(&lower);
    if let Some(flag) = value_of {
        let values: Vec<String> = match flag {
            "--api-version" => {
                let action = positional.first().copied().unwrap_or("");
                yida_api::operations()
                    .iter()
                    .filter(|o| o.action == action)
                    .map(|o| o.version.to_string())
                    .collect()
            }
            "-o" | "--output" => ["json", "ndjson", "yaml", "table"]
                .map(String::from)
                .to_vec(),
            _ => vec![],
        };
        return values.into_iter().filter(|v| prefix(v)).collect();
    }
    let Some(action) = positional.first() else {
        if cur.starts_with('-') {
            return flag_names(&flags, cur);
        }
        return actions()
            .into_iter()
            .filter(|a| prefix(a))
            .map(String::from)
            .collect();
    };
    if cur.starts_with('-') {
        return flag_names(&flags, cur);
    }
    let Ok(meta) = crate::call::find_op(action, None) else {
        return vec![];
    };
    // Parameter names not given yet (bash splits `name=value` into three words).
    meta.params
        .iter()
        .filter(|p| {
            !before
                .iter()
                .any(|w| w == p.name || w.starts_with(&format!("{}=", p.name)))
        })
        .map(|p| format!("{}=", p.name))
        .filter(|c| c.starts_with(cur.as_str()))
        .collect()
}

fn flag_names(flags: &[(String, bool)], cur: &str) -> Vec<String> {
    let mut names: Vec<String> = flags
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n.starts_with(cur))
        .collect();
    names.dedup();
    names
}

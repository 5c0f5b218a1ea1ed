//! The configuration file (`--config FILE`, `GHOR_CONFIG`): TOML whose keys are the command
//! line's own settings, layered defaults → file → `GHOR_*` environment → flags. A setting is
//! declared once, as a flag with its default, its environment variable and its help; the file
//! names it by the flag's name in snake case (`rate_per_second = 50` is
//! `--rate-per-second 50` is `GHOR_RATE_PER_SECOND=50`). One file serves every process of a
//! deployment: each takes the settings it has and leaves the others. `ghor config check`
//! names every mistake in a file by its line; `ghor config example` writes a commented file
//! with every setting.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use toml_edit::{Document, Item, Value};

/// The environment variable that names the file.
pub const ENV: &str = "GHOR_CONFIG";

/// The subcommands the file has nothing for.
const NOT_SETTINGS: &[&str] = &["config", "help"];

/// One `key = value` of a file, where it stands.
pub struct Entry {
    key: String,
    line: usize,
    value: Value,
}

/// A mistake in a file: its line (0: the file as a whole) and what is wrong.
type Mistake = (usize, String);

/// A file's mistakes, each with its line: what `--config` and `ghor config check` say.
#[derive(Debug)]
pub struct Mistakes {
    path: PathBuf,
    found: Vec<Mistake>,
}

impl std::fmt::Display for Mistakes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.found.len();
        writeln!(f, "{} has {n} mistake{}:", self.path.display(), if n == 1 { "" } else { "s" })?;
        for (line, what) in &self.found {
            writeln!(f, "  {}:{line}: {what}", self.path.display())?;
        }
        write!(f, "`ghor config example` writes every setting with its meaning.")
    }
}

impl std::error::Error for Mistakes {}

/// A setting: its flag, the commands that take it, and where it first appears.
struct Setting {
    arg: Arg,
    commands: Vec<String>,
    order: usize,
}

/// Every setting of the commands, by key: each flag that has a `GHOR_*` variable (the rest
/// say what one run does, not how ghor is set up). Where commands share a flag, the first
/// one's; `order` is where it first appears.
fn settings(root: &Command) -> BTreeMap<String, Setting> {
    fn walk(command: &Command, top: Option<&str>, all: &mut BTreeMap<String, Setting>) {
        let setting = |arg: &&Arg| arg.get_long().is_some() && arg.get_env().is_some() && !arg.is_hide_set();
        for arg in command.get_arguments().filter(setting).filter(|a| !a.is_global_set()) {
            let order = all.len();
            let setting =
                all.entry(key(arg)).or_insert_with(|| Setting { arg: arg.clone(), commands: Vec::new(), order });
            let name = top.unwrap_or(command.get_name()).to_owned();
            if !setting.commands.contains(&name) {
                setting.commands.push(name);
            }
        }
        for sub in command.get_subcommands().filter(|s| !NOT_SETTINGS.contains(&s.get_name())) {
            walk(sub, top.or(Some(sub.get_name())), all);
        }
    }
    let mut all = BTreeMap::new();
    walk(root, None, &mut all);
    all
}

/// A flag's key in the file: its long name in snake case.
fn key(arg: &Arg) -> String {
    arg.get_long().unwrap_or_default().replace('-', "_")
}

/// Reads a file's settings, with what is wrong in its shape (sections); or says what is
/// wrong with its TOML (with the line).
fn read(path: &Path) -> Result<(Vec<Entry>, Vec<Mistake>), Mistakes> {
    let mistake = |line, what: String| Mistakes { path: path.to_owned(), found: vec![(line, what)] };
    let text = std::fs::read_to_string(path).map_err(|e| mistake(0, format!("cannot be read: {e}")))?;
    let document = Document::parse(text.as_str()).map_err(|e| {
        let line = e.span().map_or(0, |span| line_of(&text, span.start));
        mistake(line, format!("not TOML: {}", e.message()))
    })?;
    let mut entries = Vec::new();
    let mut found = Vec::new();
    for (key, item) in document.iter() {
        let line = document.as_table().key(key).and_then(|k| k.span()).map_or(0, |s| line_of(&text, s.start));
        match item {
            Item::Value(value) => entries.push(Entry { key: key.to_owned(), line, value: value.clone() }),
            _ => found.push((line, format!("[{key}]: the file has no sections; write each setting as `key = value`"))),
        }
    }
    Ok((entries, found))
}

/// The line (from 1) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The flags a setting's value stands for; or why it cannot be one.
fn flags(arg: &Arg, value: &Value) -> Result<Vec<OsString>, String> {
    let flag = format!("--{}", arg.get_long().unwrap_or_default());
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return match value.as_bool() {
            Some(on) => Ok(if on { vec![flag.into()] } else { Vec::new() }),
            None => Err("is a switch: write true or false".into()),
        };
    }
    let values: Vec<&Value> = match value.as_array() {
        Some(_) if !matches!(arg.get_action(), ArgAction::Append) => return Err("takes one value, not a list".into()),
        Some(list) => list.iter().collect(),
        None => vec![value],
    };
    let mut flags = Vec::new();
    for value in values {
        let text = match value {
            Value::String(s) => s.value().clone(),
            Value::Integer(n) => n.value().to_string(),
            Value::Float(x) => x.value().to_string(),
            Value::Boolean(b) => b.value().to_string(),
            _ => return Err("must be a string, a number, true or false, or a list of them".into()),
        };
        takes(arg, &text)?;
        flags.push(format!("{flag}={text}").into());
    }
    Ok(flags)
}

/// Whether the flag takes this value: its own value parser asked, apart from the rest of
/// the command line (which may be incomplete yet).
fn takes(arg: &Arg, value: &str) -> Result<(), String> {
    let long = arg.get_long().unwrap_or_default().to_owned();
    let mut probe = Arg::new(arg.get_id().clone()).long(long.clone()).value_parser(arg.get_value_parser().clone());
    if let Some(names) = arg.get_value_names() {
        probe = probe.value_names(names.iter().cloned());
    }
    let probe = Command::new("ghor").no_binary_name(true).arg(probe);
    probe.try_get_matches_from([format!("--{long}={value}")]).map(drop).map_err(|e| brief(&e))
}

/// A value parser's complaint without clap's decoration.
fn brief(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// A file's settings, when it has no mistake: no key that no command has, and no value its
/// flag does not take. Otherwise every mistake, each with its line.
pub fn check(root: &Command, path: &Path) -> Result<Vec<Entry>, Mistakes> {
    let (entries, mut found) = read(path)?;
    let all = settings(root);
    for entry in &entries {
        match all.get(&entry.key) {
            Some(setting) => {
                if let Err(why) = flags(&setting.arg, &entry.value) {
                    found.push((entry.line, format!("{}: {why}", entry.key)));
                }
            }
            None => found.push((entry.line, unknown(&entry.key, &all))),
        }
    }
    found.sort();
    match found.is_empty() {
        true => Ok(entries),
        false => Err(Mistakes { path: path.to_owned(), found }),
    }
}

/// An unknown key, with the setting it most looks like.
fn unknown(key: &str, all: &BTreeMap<String, Setting>) -> String {
    let nearest = all
        .keys()
        .map(|k| (strsim::jaro_winkler(key, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, k)) => format!("{key}: no such setting; did you mean {k}?"),
        None => format!("{key}: no such setting"),
    }
}

/// The command line with the file's settings in it: each setting the file has that the
/// command being run takes and that neither a flag nor the environment set already. A file
/// with a mistake in it is refused whole, naming each.
pub fn apply(root: &Command, args: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    // Read leniently first: the file may hold what a flag would otherwise require. Help,
    // version and real mistakes are for the parse that follows.
    let Ok(matches) = root.clone().ignore_errors(true).try_get_matches_from(&args) else { return Ok(args) };
    let Some(path) = matches.get_one::<PathBuf>("config").cloned() else { return Ok(args) };
    let entries = check(root, &path)?;
    let (command, matches) = running(root, &matches);
    let mut args = args;
    for entry in entries {
        let Some(arg) = command.get_arguments().find(|a| a.get_long().is_some() && key(a) == entry.key) else {
            continue; // a setting of another command
        };
        let set = matches.value_source(arg.get_id().as_str());
        if matches!(set, Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            continue; // the environment and the flags win
        }
        args.extend(flags(arg, &entry.value).map_err(|why| anyhow::anyhow!("{}: {why}", entry.key))?);
    }
    Ok(args)
}

/// The (sub)command the arguments run, and its matches.
fn running<'a>(command: &'a Command, matches: &'a ArgMatches) -> (&'a Command, &'a ArgMatches) {
    match matches.subcommand() {
        Some((name, sub)) => match command.find_subcommand(name) {
            Some(subcommand) => running(subcommand, sub),
            None => (command, matches),
        },
        None => (command, matches),
    }
}

/// A commented file with every setting: its meaning, its flag and variable, the commands
/// that take it, and its default (commented out).
pub fn example(root: &Command) -> String {
    let mut out = String::from(
        "# ghor's configuration file: `ghor serve --config ghor.toml` (or GHOR_CONFIG=ghor.toml).\n\
         # Every setting is also a flag and a GHOR_* variable, which win over this file.\n\
         # One file serves every process: each takes the settings it has.\n\
         # Lines starting with # are defaults or examples; remove the # to set one.\n",
    );
    let all = settings(root);
    let mut in_order: Vec<(&String, &Setting)> = all.iter().collect();
    in_order.sort_by_key(|(_, s)| s.order);
    let mut headings: Vec<&str> = Vec::new();
    for (_, setting) in &in_order {
        let heading = setting.arg.get_help_heading().unwrap_or("Server");
        if !headings.contains(&heading) {
            headings.push(heading);
        }
    }
    for heading in headings {
        let _ = write!(out, "\n## {heading}\n");
        for (key, Setting { arg, commands, .. }) in &in_order {
            if arg.get_help_heading().unwrap_or("Server") != heading {
                continue;
            }
            let help = arg.get_long_help().or(arg.get_help()).map(ToString::to_string).unwrap_or_default();
            let env = arg.get_env().map(|e| format!(", {}", e.to_string_lossy())).unwrap_or_default();
            let flag = format!("--{}{env}; for {}.", arg.get_long().unwrap_or_default(), commands.join(", "));
            out.push('\n');
            for line in wrapped(&format!("{help}\n{flag}"), 88) {
                let _ = writeln!(out, "# {line}");
            }
            let _ = writeln!(out, "#{key} = {}", shown(arg));
        }
    }
    out
}

/// Text in lines of at most `width` characters, broken between words.
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A setting's default as a TOML value; a placeholder to fill in where it has none.
fn shown(arg: &Arg) -> String {
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return "false".into();
    }
    let defaults: Vec<String> = arg.get_default_values().iter().map(|v| literal(&v.to_string_lossy())).collect();
    match (defaults.as_slice(), arg.get_action()) {
        ([], ArgAction::Append) => "[]".into(),
        ([], _) => format!("\"<{}>\"", arg.get_value_names().and_then(|n| n.first()).map_or("VALUE", |n| n.as_str())),
        ([one], action) if !matches!(action, ArgAction::Append) => one.clone(),
        (many, _) => format!("[{}]", many.join(", ")),
    }
}

/// A value as TOML writes it: numbers bare, the rest quoted.
fn literal(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(_) => value.to_owned(),
        Err(_) => format!("{value:?}"),
    }
}

/// What `ghor config check` says of a good file: each setting (secrets hidden) and the
/// commands that take it.
pub fn report(root: &Command, path: &Path) -> anyhow::Result<()> {
    let entries = check(root, path)?;
    let all = settings(root);
    println!("{}: {} settings, no mistakes", path.display(), entries.len());
    for Entry { key, value, .. } in entries {
        let Some(Setting { arg, commands, .. }) = all.get(&key) else { continue };
        let shown = if arg.is_hide_env_values_set() { "(secret, not shown)".to_owned() } else { show(&value) };
        println!("  {key} = {shown}   for {}", commands.join(", "));
    }
    Ok(())
}

/// A value as it was written, near enough.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", s.value()),
        Value::Integer(n) => n.value().to_string(),
        Value::Float(x) => x.value().to_string(),
        Value::Boolean(b) => b.value().to_string(),
        Value::Array(list) => format!("[{}]", list.iter().map(show).collect::<Vec<_>>().join(", ")),
        _ => "…".into(),
    }
}

//! The `rollsafe` command line. Everything it does is in the library; this file parses
//! arguments, picks a renderer and turns the outcome into an exit code:
//! 0 pass, 1 findings at or above `--fail-on`, 2 usage, config or IO error.

use anyhow::{Context as _, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use rollsafe::check::{self, CheckOptions};
use rollsafe::config::FailOn;
use rollsafe::dialect::Dialect;
use rollsafe::hook;
use rollsafe::layout::{LayoutChoice, LayoutKind};
use rollsafe::project;
use rollsafe::report::{self, Report};
use rollsafe::resolve::Verdict;
use rollsafe::rules;
use rollsafe::schema::render;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: a run allocates and frees many small strings and vectors (the IR, catalogs
/// copied per migration); measured in `scripts/bench.sh`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "rollsafe",
    version,
    about = "Checks SQL migrations for N-1 compatibility and rollback safety before a deploy",
    long_about = "Checks SQL migrations for N-1 compatibility and rollback safety before a deploy.\n\n\
        The previous release's binary (N-1) keeps running during a rolling deploy and comes back \
        after an image-only rollback, while the schema stays as the migrations left it. rollsafe \
        replays your migrations into a schema model and reports every change that would break \
        N-1, a rollback, or the database's availability, with the safe multi-deploy recipe."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check migrations; the exit code gates the deploy (0 pass, 1 findings, 2 error).
    Check(CheckArgs),
    /// List every rule: id, category, default severity, summary.
    Rules {
        /// `markdown` prints the full rule reference (docs/rules.md); `json` every rule's
        /// metadata and examples.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Explain a rule: why it breaks N-1 or a rollback, the safe recipe, and how to
    /// configure or suppress it.
    Explain {
        /// A rule id, in any case, `_` or `-` (`drop-column`, `DROP_COLUMN`).
        #[arg(value_parser = RuleName, hide_possible_values = true)]
        rule: String,
    },
    /// Print the schema replayed from the migrations (JSON or SQL).
    Schema(SchemaArgs),
    /// What a revision's code uses and where: who still reads `orders.legacy_status`?
    Usage(UsageArgs),
    /// Write a commented rollsafe.toml for this repository (never overwrites one).
    Init(InitArgs),
    /// Print a shell completion script.
    ///
    /// e.g. `rollsafe completions bash > ~/.local/share/bash-completion/completions/rollsafe`,
    /// `rollsafe completions zsh > "${fpath[1]}/_rollsafe"`,
    /// `rollsafe completions fish > ~/.config/fish/completions/rollsafe.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct InitArgs {
    /// The repository (or project) directory to inspect; rollsafe.toml is written there.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Print the config instead of writing it.
    #[arg(long)]
    stdout: bool,
}

#[derive(clap::Args)]
struct UsageArgs {
    /// A table or column (`orders`, `orders.legacy_status`); default: every table and column
    /// the code names.
    object: Option<String>,
    /// The revision whose code is read (default: as `check` picks N-1's: `base` in
    /// rollsafe.toml, else the upstream branch, else HEAD).
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// The migrations directory (default: `migrations` in rollsafe.toml, else `.`).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    #[arg(long, value_enum, default_value_t = UsageFormat::Text)]
    format: UsageFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum UsageFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct SourceArgs {
    /// The SQL dialect (default: from config or the layout, else postgres).
    #[arg(long, value_parser = dialect_parser(), ignore_case = true)]
    dialect: Option<Dialect>,
    /// The migration tool's layout (default: detected from the files).
    #[arg(long, default_value = "auto", value_parser = layout_parser())]
    layout: LayoutChoice,
    /// The config file (default: the nearest rollsafe.toml at or above DIR).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The migrations directory (default: `migrations` in rollsafe.toml, else `.`), and/or
    /// migration files: named files are the deploy (the migrations they belong to).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    source: SourceArgs,
    /// Run as a pre-commit hook: compare the refs pre-commit gives (PRE_COMMIT_FROM_REF,
    /// PRE_COMMIT_TO_REF: `--from-ref/--to-ref`, pre-push); else, at commit time, the staged
    /// migrations of the files pre-commit passes against what was pushed; under
    /// `--all-files`, against the upstream, or the whole history when nothing differs.
    #[arg(long)]
    hook: bool,
    /// Audit the whole history: every migration is its own deploy, checked against the
    /// schema the ones before it build.
    #[arg(long, conflicts_with_all = ["base", "head"])]
    all: bool,
    /// The revision N-1 runs (default: `base` in rollsafe.toml, else the upstream branch,
    /// else the remote's default branch, else HEAD). N-1's schema is built by the migrations
    /// at the merge base of this and the head.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// The revision to check: a git revision, `index` (what is staged) or `worktree` (the
    /// default: the working tree, untracked files included).
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// With --all: judge compat findings on what the code at REV uses (git mode reads the
    /// base revision's code by itself).
    #[arg(long, value_name = "REV", requires = "all")]
    usage_from: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Print how long each stage took to standard error.
    #[arg(long)]
    timings: bool,
    /// Parse every file again instead of reading the parse cache (`cache_dir` in
    /// rollsafe.toml, else `$XDG_CACHE_HOME/rollsafe` or `~/.cache/rollsafe`).
    #[arg(long)]
    no_cache: bool,
    /// Write the report to FILE instead of standard output (the one-line verdict still goes
    /// to standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print only the one-line verdict.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args)]
struct SchemaArgs {
    /// The migrations directory (default: `migrations` in rollsafe.toml, else `.`).
    #[arg(default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// Replay the migrations at this git revision instead of the working tree.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    #[arg(long, value_enum, default_value_t = SchemaFormat::Sql)]
    format: SchemaFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Each finding at its statement, with the safe recipe.
    Text,
    /// The report model (schema_version 1).
    Json,
    /// One line per finding: `path:line:col: severity[rule] message`.
    Concise,
    /// The reviewers' report, for a pull-request comment or a job summary.
    Markdown,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub and Forgejo workflow annotations.
    Github,
    /// GitLab code quality report.
    Gitlab,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaFormat {
    Sql,
    Json,
}

/// The dialect names, with their aliases, so `--help` and completions list them.
fn dialect_parser() -> impl TypedValueParser<Value = Dialect> {
    let values = [
        PossibleValue::new("postgres").aliases(["postgresql", "pg"]),
        PossibleValue::new("mysql").alias("mariadb"),
        PossibleValue::new("sqlite").alias("sqlite3"),
    ];
    PossibleValuesParser::new(values)
        .map(|name| Dialect::parse_name(&name).expect("every possible value names a dialect"))
}

/// A rule id as typed (any case, `_` or `-`; `explain` matches it), offering every id to
/// shell completion.
#[derive(Clone)]
struct RuleName;

impl TypedValueParser for RuleName {
    type Value = String;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let ids = rules::all_meta()
            .iter()
            .map(|meta| PossibleValue::new(meta.id.as_str()).help(meta.summary.trim().to_string()));
        Some(Box::new(ids))
    }
}

/// `auto` and every layout name, so `--help` and completions list them.
fn layout_parser() -> impl TypedValueParser<Value = LayoutChoice> {
    let names = std::iter::once("auto").chain(LayoutKind::ALL.iter().map(|kind| kind.name()));
    PossibleValuesParser::new(names.map(PossibleValue::new))
        .map(|name| LayoutKind::parse_name(&name).map_or(LayoutChoice::Auto, LayoutChoice::Fixed))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Rules { format } => list_rules(format).map(|()| ExitCode::SUCCESS),
        Command::Explain { rule } => explain(&rule),
        Command::Schema(args) => print_schema(args).map(|()| ExitCode::SUCCESS),
        Command::Usage(args) => print_usage(args).map(|()| ExitCode::SUCCESS),
        Command::Init(args) => init(&args).map(|()| ExitCode::SUCCESS),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "rollsafe", &mut script);
            write_output(None, &String::from_utf8_lossy(&script)).map(|()| ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("rollsafe: error: {err:#}");
        ExitCode::from(2)
    })
}

fn check_options(dir: PathBuf, source: SourceArgs, all: bool) -> CheckOptions {
    CheckOptions {
        dir,
        all,
        base: None,
        head: None,
        dialect: source.dialect,
        layout: source.layout,
        config: source.config,
        usage_from: None,
        files: Vec::new(),
        cache: false,
    }
}

fn run_check(args: CheckArgs) -> Result<ExitCode> {
    let (dir, files) = split_paths(&args.paths, args.source.config.as_deref(), args.hook)?;
    let mut options = CheckOptions {
        base: args.base,
        head: args.head,
        cache: !args.no_cache,
        usage_from: args.usage_from,
        ..check_options(dir, args.source, args.all)
    };
    if args.hook {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let plan = hook::plan(&mut options, &files, &env)?;
        for note in &plan.notes {
            eprintln!("rollsafe: note: {note}");
        }
        if plan.skip {
            return Ok(ExitCode::SUCCESS);
        }
    } else {
        options.files = relative_files(&options, &files)?;
    }
    let check::Run {
        report,
        config,
        notices,
        timings,
    } = check::run(&options)?;
    for notice in notices {
        eprintln!("rollsafe: note: {notice}");
    }
    if args.timings {
        for (stage, duration) in &timings.stages {
            eprintln!(
                "rollsafe: timing: {stage:<20} {:>8.1} ms",
                duration.as_secs_f64() * 1000.0
            );
        }
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error);
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let rendered = match args.format {
        Format::Text => report::text::render(&report, color),
        Format::Json => report::json::render(&report),
        Format::Concise => report::concise::render(&report),
        Format::Markdown => report::markdown::render(&report),
        Format::Sarif => report::sarif::render(&report),
        Format::Github => report::github::render(&report),
        Format::Gitlab => report::gitlab::render(&report),
    };
    if args.quiet && args.output.is_none() {
        print!("{}", report::text::summary(&report));
    } else {
        write_output(args.output.as_ref(), &rendered)?;
        if args.output.is_some() {
            eprint!("{}", report::text::summary(&report));
        }
    }
    Ok(exit_code(&report, fail_on))
}

fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    let failing = match fail_on {
        FailOn::Never => false,
        FailOn::Error => report.verdict == Verdict::Unsafe,
        FailOn::Warning => report.verdict >= Verdict::Review,
    };
    if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write_output(path: Option<&PathBuf>, text: &str) -> Result<()> {
    match path {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("{}: cannot write the report", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`rollsafe check | head`) is not an error worth reporting.
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to standard output"),
            }
        }
    }
}

fn list_rules(format: RulesFormat) -> Result<()> {
    match format {
        RulesFormat::Markdown => return write_output(None, &rollsafe::docs::rules_markdown()),
        RulesFormat::Json => return write_output(None, &rollsafe::docs::rules_json()),
        RulesFormat::Text => {}
    }
    let mut out = String::new();
    for meta in rules::all_meta() {
        out.push_str(&format!(
            "{:<32} {:<10} {:<8} {}\n",
            meta.id,
            meta.category.name(),
            meta.severity.name(),
            meta.summary.trim()
        ));
    }
    write_output(None, &out)
}

fn explain(name: &str) -> Result<ExitCode> {
    let Some(meta) = rollsafe::docs::find_rule(name) else {
        let close = rollsafe::docs::similar_rules(name);
        let hint = if close.is_empty() {
            "`rollsafe rules` lists them".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        eprintln!("rollsafe: error: no rule `{name}`; {hint}");
        return Ok(ExitCode::from(2));
    };
    write_output(None, &rollsafe::docs::explain_text(meta))?;
    Ok(ExitCode::SUCCESS)
}

fn init(args: &InitArgs) -> Result<()> {
    let proposal = rollsafe::init::inspect(&args.dir)?;
    if args.stdout {
        return write_output(None, &proposal.config);
    }
    let path = rollsafe::init::write(&args.dir, &proposal)?;
    for line in &proposal.notes {
        eprintln!("rollsafe: {line}");
    }
    eprintln!(
        "rollsafe: wrote {}; run `rollsafe check` to try it",
        path.display()
    );
    Ok(())
}

/// `rollsafe usage`: the usage model of a revision (git objects, no checkout), or of the
/// current directory outside git, for one object or all.
fn print_usage(args: UsageArgs) -> Result<()> {
    use rollsafe::usage::{self, answer};
    let options = CheckOptions {
        dir: args.dir,
        dialect: args.source.dialect,
        layout: args.source.layout,
        config: args.source.config,
        ..CheckOptions::default()
    };
    let (config, config_path) = check::load_config(&options)?;
    let dir = check::migrations_dir(&options, &config, config_path.as_deref());
    let Some(repo) = rollsafe::git::GitRepo::discover(&dir)? else {
        anyhow::bail!(
            "{}: not inside a git repository; `rollsafe usage` reads a revision's code",
            dir.display()
        );
    };
    // As `check` picks N-1's revision: config, the upstream branch, else HEAD.
    let rev = args
        .rev
        .or_else(|| config.base.clone())
        .or_else(|| repo.default_base())
        .unwrap_or_else(|| "HEAD".to_string());
    let resolved = repo.resolve(&rev)?;
    let snapshot = repo.snapshot_at(resolved.commit, repo.checked_dir())?;
    let project = project::load_project(
        &snapshot.files,
        options.dialect,
        options.layout,
        &config,
        None,
    )?;
    let catalog = project::final_schema(&project);
    let object = args
        .object
        .as_deref()
        .map(|object| answer::parse_object(object, &catalog));
    let targets = object.as_ref().map(|(table, column)| {
        std::iter::once(table.name.clone())
            .chain(column.clone())
            .collect()
    });
    let usage = usage::read_at(
        &repo,
        resolved.commit,
        &rev,
        &catalog,
        &rollsafe::config::UsageConfig {
            enabled: None,
            ..config.usage.clone()
        },
        repo.checked_dir(),
        targets.as_ref(),
    )?
    .unwrap_or_default();
    let object = object.as_ref().map(|(t, c)| (t, c.as_deref()));
    let answer = answer::answer(&usage, Some(resolved.hex()), object);
    let out = match args.format {
        UsageFormat::Json => serde_json::to_string_pretty(&answer)? + "\n",
        UsageFormat::Text => answer::to_text(&answer),
    };
    write_output(None, &out)
}

fn print_schema(args: SchemaArgs) -> Result<()> {
    if args.dir.is_file() {
        anyhow::bail!(
            "{}: is a file; `rollsafe schema` takes the migrations directory",
            args.dir.display()
        );
    }
    let options = check_options(args.dir, args.source, true);
    let (config, config_path) = check::load_config(&options)?;
    let dir = check::migrations_dir(&options, &config, config_path.as_deref());
    let snapshot = match &args.rev {
        None => rollsafe::source::read_dir(&dir)?,
        Some(rev) => snapshot_at_rev(&dir, rev)?,
    };
    // As `check` does: a directory named after a dialect gives it when nothing else does.
    let dialect = match (options.dialect, config.dialect) {
        (None, None) => rollsafe::layout::dialect_of_dir(&dir),
        (named, _) => named,
    };
    let project = project::load_project(&snapshot, dialect, options.layout, &config, None)?;
    let catalog = project::final_schema(&project);
    let out = match args.format {
        SchemaFormat::Json => render::to_json_string(&catalog) + "\n",
        SchemaFormat::Sql => render::to_sql(&catalog),
    };
    write_output(None, &out)
}

/// `check PATH...`: the migrations directory (at most one directory; inferred from the
/// files when none is given, except for a hook) and the files named.
fn split_paths(
    paths: &[PathBuf],
    config: Option<&std::path::Path>,
    hook: bool,
) -> Result<(PathBuf, Vec<PathBuf>)> {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => dirs.push(path.clone()),
            Ok(_) => files.push(path.clone()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                anyhow::bail!("{}: no such file or directory", path.display())
            }
            Err(err) => {
                return Err(err).with_context(|| format!("{}: cannot read", path.display()))
            }
        }
    }
    let dir = match dirs.as_slice() {
        // A hook's files are whatever pre-commit matched, not a migration set.
        [] if files.is_empty() || hook => PathBuf::from("."),
        [] => files_dir(&files, config),
        [dir] => dir.clone(),
        [first, second, ..] => anyhow::bail!(
            "{} and {}: several directories given; check one migrations directory at a time",
            first.display(),
            second.display()
        ),
    };
    Ok((dir, files))
}

/// The migrations directory of files named without one: config's `migrations` when they
/// lie inside it, else their common directory (one level up for layouts that keep a
/// directory per migration: `up.sql`, `migration.sql`; sqitch's `deploy/`).
fn files_dir(files: &[PathBuf], config: Option<&std::path::Path>) -> PathBuf {
    let canonical = |path: &std::path::Path| path.canonicalize().unwrap_or(path.to_path_buf());
    let parents: Vec<PathBuf> = files
        .iter()
        .map(|file| {
            canonical(file)
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default()
        })
        .collect();
    let mut common = parents[0].clone();
    while !parents.iter().all(|parent| parent.starts_with(&common)) {
        if !common.pop() {
            break;
        }
    }
    let config_path = config
        .map(PathBuf::from)
        .or_else(|| rollsafe::config::find(&common));
    if let Some(path) = config_path {
        if let Ok(config) = rollsafe::config::Config::load(&path) {
            if let Some(migrations) = &config.migrations {
                let dir = canonical(
                    &path
                        .parent()
                        .unwrap_or(std::path::Path::new("."))
                        .join(migrations),
                );
                if parents.iter().all(|parent| parent.starts_with(&dir)) {
                    return dir;
                }
            }
        }
    }
    let per_migration = files.iter().all(|file| {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        rollsafe::layout::is_per_migration_file(name)
    });
    let sqitch = matches!(
        common.file_name().and_then(|n| n.to_str()),
        Some("deploy" | "revert" | "verify")
    ) && common
        .parent()
        .is_some_and(|p| p.join("sqitch.plan").exists());
    if per_migration || sqitch {
        common.pop();
    }
    common
}

/// The named files relative to the migrations directory, with `/`; a file outside it is
/// an error.
fn relative_files(options: &CheckOptions, files: &[PathBuf]) -> Result<Vec<String>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let (config, config_path) = check::load_config(options)?;
    let dir = check::migrations_dir(options, &config, config_path.as_deref());
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}: cannot read", dir.display()))?;
    files
        .iter()
        .map(|file| {
            let full = file
                .canonicalize()
                .with_context(|| format!("{}: cannot read", file.display()))?;
            if !full.starts_with(&dir) {
                anyhow::bail!(
                    "{}: not inside the migrations directory {}",
                    file.display(),
                    dir.display()
                );
            }
            Ok(rollsafe::source::relative_path(&dir, &full))
        })
        .collect()
}

/// The migrations directory's files at git revision `rev`, read from git objects.
fn snapshot_at_rev(dir: &std::path::Path, rev: &str) -> Result<rollsafe::source::Snapshot> {
    let repo = rollsafe::git::GitRepo::discover(dir)?.with_context(|| {
        format!(
            "{}: --rev reads a git revision, but this directory is not inside a git repository",
            dir.display()
        )
    })?;
    let commit = repo.resolve(rev)?;
    let snapshot = repo.snapshot_at(commit.commit, repo.checked_dir())?;
    if snapshot.files.is_empty() {
        anyhow::bail!(
            "{}: the directory holds no files at {rev}",
            repo.checked_dir()
        );
    }
    Ok(snapshot.files)
}

//! The `rollsafe` command line. Everything it does is in the library; this file parses
//! arguments, picks a renderer and turns the outcome into an exit code:
//! 0 pass, 1 findings at or above `--fail-on`, 2 usage, config or IO error.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rollsafe::check::{self, CheckOptions};
use rollsafe::config::FailOn;
use rollsafe::dialect::Dialect;
use rollsafe::layout::{LayoutChoice, LayoutKind};
use rollsafe::project;
use rollsafe::report::{self, Report};
use rollsafe::resolve::Verdict;
use rollsafe::rules::{self, Severity};
use rollsafe::schema::render;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// `markdown` prints the full rule reference (docs/rules.md).
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Explain a rule: why it breaks N-1 or a rollback, and the safe recipe.
    Explain {
        /// A rule id, e.g. `drop-column`.
        rule: String,
    },
    /// Print the schema replayed from the migrations (JSON or SQL).
    Schema(SchemaArgs),
}

#[derive(clap::Args)]
struct SourceArgs {
    /// The migrations directory (default: `migrations` in rollsafe.toml, else `.`).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The SQL dialect (default: from config or the layout, else postgres).
    #[arg(long, value_parser = parse_dialect)]
    dialect: Option<Dialect>,
    /// The migration tool's layout.
    #[arg(long, default_value = "auto", value_parser = parse_layout)]
    layout: LayoutChoice,
    /// The config file (default: the nearest rollsafe.toml at or above DIR).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Audit the whole history: every migration is its own deploy, checked against the
    /// schema the ones before it build.
    #[arg(long, conflicts_with_all = ["base", "head"])]
    all: bool,
    /// The revision N-1 runs (default: `base` in rollsafe.toml, else HEAD). N-1's schema is
    /// built by the migrations at the merge base of this and the head.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// The revision to check (default: the working tree, untracked files included).
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Print how long each stage took to standard error.
    #[arg(long)]
    timings: bool,
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
    #[command(flatten)]
    source: SourceArgs,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaFormat {
    Sql,
    Json,
}

fn parse_dialect(name: &str) -> Result<Dialect, String> {
    Dialect::parse_name(name)
        .ok_or_else(|| format!("unknown dialect `{name}` (postgres, mysql, sqlite)"))
}

fn parse_layout(name: &str) -> Result<LayoutChoice, String> {
    if name == "auto" {
        return Ok(LayoutChoice::Auto);
    }
    LayoutKind::parse_name(name)
        .map(LayoutChoice::Fixed)
        .ok_or_else(|| {
            let names: Vec<&str> = LayoutKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown layout `{name}` (auto, {})", names.join(", "))
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Rules { format } => list_rules(format).map(|()| ExitCode::SUCCESS),
        Command::Explain { rule } => explain(&rule),
        Command::Schema(args) => print_schema(args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|err| {
        eprintln!("rollsafe: error: {err:#}");
        ExitCode::from(2)
    })
}

fn check_options(source: SourceArgs, all: bool) -> CheckOptions {
    CheckOptions {
        dir: source.dir,
        all,
        base: None,
        head: None,
        dialect: source.dialect,
        layout: source.layout,
        config: source.config,
    }
}

fn run_check(args: CheckArgs) -> Result<ExitCode> {
    let options = CheckOptions {
        base: args.base,
        head: args.head,
        ..check_options(args.source, args.all)
    };
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
    if let RulesFormat::Markdown = format {
        return write_output(None, &rollsafe::docs::rules_markdown());
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

fn explain(id: &str) -> Result<ExitCode> {
    let Some(meta) = rules::meta(id) else {
        let close: Vec<&str> = rules::all_meta()
            .iter()
            .map(|m| m.id.as_str())
            .filter(|other| other.contains(id) || id.contains(*other))
            .collect();
        let hint = if close.is_empty() {
            "`rollsafe rules` lists them".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        eprintln!("rollsafe: error: no rule `{id}`; {hint}");
        return Ok(ExitCode::from(2));
    };
    let default = match meta.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let example = &meta.example;
    let mut out = format!(
        "{id} ({category}, {default} by default)\n\n{summary}\n\nWhy\n{why}\n\nSafe recipe\n{recipe}\n\nUnsafe\n{bad}\nSafe\n{good}",
        id = meta.id,
        category = meta.category.name(),
        summary = meta.summary.trim(),
        why = indent(&meta.why),
        recipe = indent(&meta.recipe),
        bad = indent(&example.bad),
        good = indent(&example.good),
    );
    out.push('\n');
    write_output(None, &out)?;
    Ok(ExitCode::SUCCESS)
}

fn indent(text: &str) -> String {
    text.trim()
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect()
}

fn print_schema(args: SchemaArgs) -> Result<()> {
    let options = check_options(args.source, true);
    let (config, config_path) = check::load_config(&options)?;
    let dir = check::migrations_dir(&options, &config, config_path.as_deref());
    let snapshot = rollsafe::source::read_dir(&dir)?;
    let project = project::load_project(&snapshot, options.dialect, options.layout, &config, None)?;
    let catalog = project::final_schema(&project);
    let out = match args.format {
        SchemaFormat::Json => render::to_json_string(&catalog) + "\n",
        SchemaFormat::Sql => render::to_sql(&catalog),
    };
    write_output(None, &out)
}

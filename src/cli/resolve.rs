//! Flags and the environment, resolved once into [`Config`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;

use crate::campaign::Kind;
use crate::cli::{
    ApplyArgs, ApplyFormat, Cli, Command, InitArgs, PlanArgs, PlanOutput, ReportTargetArgs,
    SourceArgs, TargetArgs, WatchArgs,
};
use crate::settings::formats::{ListFormat, ListKind, PlanFormat};
use crate::settings::target::{ApiUrl, Target, TargetId};
use crate::settings::{
    ApplySettings, Config, InitSettings, ListSettings, Logging, PlanSettings, WatchSettings,
};

/// How the log is written: read before [`resolve`], so that its errors are logged as asked.
pub fn logging(cli: &Cli) -> Logging {
    Logging {
        format: cli.output.log_format,
        verbose: cli.output.verbose,
        color: cli.output.color.stderr(),
        serving: matches!(cli.command, Command::MockServer(_)),
    }
}

/// Resolves the parsed command line into what the command needs. `color` is standard
/// output's: the reporters write there (the log's is [`logging`]'s).
pub fn resolve(cli: Cli) -> anyhow::Result<Config> {
    let color = cli.output.color.stdout();
    if let Some(sources) = cli.command.sources() {
        allow_sources(sources)?;
    }
    Ok(match cli.command {
        Command::Init(args) => init(args, color),
        Command::Validate { paths, format, .. } => Config::Validate {
            paths: if paths.is_empty() {
                vec![default_campaigns()]
            } else {
                paths
            },
            format,
            color,
        },
        Command::Plan(args) => plan(args, color)?,
        Command::Apply(args) => apply(args)?,
        Command::Status {
            campaign,
            sync,
            mock,
            api_url,
            api_key_file,
            state,
            json,
            all,
        } => {
            // Without --sync, --mock and --api-url only choose which target's rows are shown.
            let shown = if mock {
                Some(TargetId::Mock)
            } else {
                api_url.as_deref().map(TargetId::url).transpose()?
            };
            status(
                campaign,
                state,
                json,
                all,
                shown,
                sync.then_some(TargetArgs {
                    mock,
                    api_url: api_url
                        .unwrap_or_else(|| crate::settings::target::LIVE_URL.to_owned()),
                    api_key_file,
                    state: None,
                }),
            )?
        }
        Command::Report {
            campaign,
            target,
            format,
            out,
            unmask,
            by,
            list,
            sync,
        } => {
            let output = report_output(format, list, out.as_deref(), !by.is_empty())?;
            report(campaign, &target, output, out, unmask, by, sync)?
        }
        Command::Sync {
            campaign,
            target,
            format,
        } => {
            let campaign = campaign_file(campaign)?;
            Config::Sync(sync_settings(
                &campaign,
                &target,
                format == ApplyFormat::Json,
            )?)
        }
        Command::Pause { campaign, state } => {
            let campaign = campaign_file(campaign)?;
            Config::Pause {
                state: state_for(state, Some(&campaign))?,
                campaign,
            }
        }
        Command::Resume { campaign, state } => {
            let campaign = campaign_file(campaign)?;
            Config::Resume {
                state: state_for(state, Some(&campaign))?,
                campaign,
            }
        }
        Command::Purge {
            older_than,
            campaign,
            state,
        } => Config::Purge {
            state: state_for(state, campaign.map(campaign_file).transpose()?.as_deref())?,
            older_than: crate::campaign::values::parse_duration(&older_than).with_context(
                || {
                    format!(
                        "--older-than `{older_than}` is not a length of time (write it like 90d)"
                    )
                },
            )?,
        },
        Command::Watch(args) => watch(args, color)?,
        Command::Schema => Config::Schema,
        Command::Migrate {
            state,
            accept_lost_records,
        } => Config::Migrate {
            state: ledger_location(state)?,
            accept_lost_records,
        },
        Command::MockServer(args) => Config::MockServer(args),
        Command::Callbacks(args) => Config::Callbacks(super::callbacks::resolve(args)?),
        Command::Workflows(args) => Config::Workflows(super::workflows::resolve(args)?),
    })
}

/// `--allow-source-outside DIR`: each folder, resolved, allowed for the rest of the run.
fn allow_sources(args: &SourceArgs) -> anyhow::Result<()> {
    let mut dirs = Vec::new();
    for dir in &args.allow_source_outside {
        let real = dir
            .canonicalize()
            .ok()
            .filter(|d| d.is_dir())
            .with_context(|| {
                format!(
                    "--allow-source-outside {}: no such folder (give the folder that holds the patient files)",
                    dir.display()
                )
            })?;
        dirs.push(real);
    }
    crate::patients::location::allow_outside(dirs);
    Ok(())
}

/// An API key file holds one key: anything larger is not one (and is not read whole).
const MAX_API_KEY_FILE_BYTES: u64 = 4096;

/// The API key: `--api-key-file`, else `INTRON_API_KEY`. Never from a campaign file.
pub(super) fn api_key(args: &TargetArgs) -> anyhow::Result<Option<SecretString>> {
    if let Some(path) = &args.api_key_file {
        let text = crate::load::input_file::read_text(path, MAX_API_KEY_FILE_BYTES)
            .with_context(|| format!("cannot read the API key file {}", path.display()))?;
        let key = text.trim();
        if key.is_empty() {
            anyhow::bail!("the API key file {} is empty", path.display());
        }
        return Ok(Some(SecretString::from(key.to_owned())));
    }
    Ok(std::env::var("INTRON_API_KEY")
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .map(SecretString::from))
}

/// A campaign file (or, for `apply`, a saved plan) named on the command line: a folder or a
/// file that is not there is refused at once, the same way by every command, with what to
/// give instead.
fn campaign_file(path: PathBuf) -> anyhow::Result<PathBuf> {
    use crate::validate::files::{Unreadable, walk};
    let shown = path.display();
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {
            let mut found = walk(&path, Unreadable::Skip)
                .map(|w| w.campaigns)
                .unwrap_or_default();
            found.sort();
            match found.as_slice() {
                [] => anyhow::bail!(
                    "{shown} is a folder with no campaign files in it: name a campaign file (`outreach init --patients PATIENTS.csv` writes one)"
                ),
                [one] => anyhow::bail!(
                    "{shown} is a folder, not a campaign file: name the campaign in it, {}",
                    one.display()
                ),
                [first, ..] => anyhow::bail!(
                    "{shown} is a folder, not a campaign file: name one of its {} campaigns, such as {} (`outreach validate {shown}` checks them all)",
                    found.len(),
                    first.display()
                ),
            }
        }
        Ok(_) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "there is no file {shown}: name a campaign file (`outreach init --patients PATIENTS.csv` writes one)"
        ),
        Err(e) => anyhow::bail!("cannot read {shown}: {e}"),
    }
}

/// Where `validate` and `watch` look when given no path: `campaigns/` if there is one (a
/// campaigns repository), else the current directory (where `init` writes).
fn default_campaigns() -> PathBuf {
    if Path::new("campaigns").is_dir() {
        PathBuf::from("campaigns")
    } else {
        PathBuf::from(".")
    }
}

pub(super) fn state_for(
    state: Option<PathBuf>,
    campaign: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    ledger_location(state.unwrap_or_else(|| match campaign {
        Some(c) => crate::apply::default_state(c),
        None => PathBuf::from(".outreach/state.db"),
    }))
}

/// A ledger location (`--state`, `OUTREACH_DATABASE_URL`, or the default beside a campaign),
/// refused here, before anything runs, when it is neither a file's path nor a database or
/// could be read as either (`ledger::Location` says why, never repeating it).
fn ledger_location(state: PathBuf) -> anyhow::Result<PathBuf> {
    crate::ledger::Location::of(&state)?;
    Ok(state)
}

/// `outreach status`, with `sync` the target of `--sync` (whose ledger is the status's).
fn status(
    campaign: Option<PathBuf>,
    state: Option<PathBuf>,
    json: bool,
    all: bool,
    target: Option<TargetId>,
    sync: Option<TargetArgs>,
) -> anyhow::Result<Config> {
    let campaign = campaign.map(campaign_file).transpose()?;
    let state = state_for(state, campaign.as_deref())?;
    let sync = match (&campaign, sync) {
        (Some(c), Some(target)) => Some(sync_settings(
            c,
            &TargetArgs {
                state: Some(state.clone()),
                ..target
            },
            false,
        )?),
        _ => None,
    };
    Ok(Config::Status {
        state,
        campaign,
        target,
        json,
        all,
        sync,
    })
}

/// What `outreach sync` (or `--sync`) needs: the campaign, its target and key, its ledger.
fn sync_settings(
    campaign: &Path,
    target: &TargetArgs,
    json: bool,
) -> anyhow::Result<crate::settings::SyncSettings> {
    if !target.mock {
        crate::clock::reaching_a_server(&crate::settings::target::shown_url(&target.api_url));
    }
    Ok(crate::settings::SyncSettings {
        campaign: campaign.to_path_buf(),
        state: state_for(target.state.clone(), Some(campaign))?,
        key: api_key(target)?,
        target: if target.mock {
            Target::Mock
        } else {
            Target::Url(ApiUrl::parse(&target.api_url)?)
        },
        json,
        request_timeout: Duration::from_secs(30),
    })
}

/// `outreach report`: the target a flag names, or none (the command takes the ledger's);
/// with `--sync`, the server looked up on (the live API by default) and reported on.
fn report(
    campaign: PathBuf,
    target: &ReportTargetArgs,
    (format, list): (
        crate::settings::formats::ReportFormat,
        Option<crate::settings::PatientListSettings>,
    ),
    out: Option<PathBuf>,
    unmask: bool,
    by: Vec<String>,
    sync: bool,
) -> anyhow::Result<Config> {
    let campaign = campaign_file(campaign)?;
    let asked = report_target(target)?;
    // `report --sync` looks up on a server named by the flags (the live API by
    // default, as `sync` does), and then reports on that one.
    let sync_target = TargetArgs {
        mock: target.mock,
        api_url: target
            .api_url
            .clone()
            .unwrap_or_else(|| crate::settings::target::LIVE_URL.to_owned()),
        api_key_file: target.api_key_file.clone(),
        state: target.state.clone(),
    };
    Ok(Config::Report {
        state: state_for(target.state.clone(), Some(&campaign))?,
        target: if sync {
            Some(target_id(&sync_target)?)
        } else {
            asked
        },
        sync: sync
            .then(|| sync_settings(&campaign, &sync_target, false))
            .transpose()?,
        campaign,
        format,
        out,
        unmask,
        by,
        list,
    })
}

/// A list's format, for `plan --list` and `report --list`: the one `--format` named, else the
/// one `--out`'s extension names (`.xlsx`, `.json`), else CSV; XLSX only to a file.
fn list_format(named: Option<ListFormat>, out: Option<&Path>) -> anyhow::Result<ListFormat> {
    let by_name = || {
        let ext = out?.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" => Some(ListFormat::Xlsx),
            "json" => Some(ListFormat::Json),
            _ => None,
        }
    };
    let format = named.or_else(by_name).unwrap_or(ListFormat::Csv);
    if format == ListFormat::Xlsx && out.is_none() {
        anyhow::bail!(
            "--format xlsx writes a binary file, which is not written to standard output: name the file with --out FILE.xlsx"
        );
    }
    Ok(format)
}

/// What `report` writes: the figures in a format, or with `--list` a list of patients in a
/// list's format to `--out` (or stdout); contradictory flags refused in words.
fn report_output(
    format: Option<crate::cli::ReportOutput>,
    list: Option<crate::settings::formats::PatientListKind>,
    out: Option<&Path>,
    by: bool,
) -> anyhow::Result<(
    crate::settings::formats::ReportFormat,
    Option<crate::settings::PatientListSettings>,
)> {
    use crate::cli::ReportOutput as O;
    use crate::settings::formats::ReportFormat as F;
    let Some(kind) = list else {
        return Ok((
            match format {
                None | Some(O::Table) => F::Table,
                Some(O::Json) => F::Json,
                Some(O::Csv) => F::Csv,
                Some(O::Html) => F::Html,
                Some(O::Xlsx) => anyhow::bail!(
                    "--format xlsx is a list's format: add --list KIND (such as --list unreached) for a list of patients, or choose table, json, csv or html for the report"
                ),
            },
            None,
        ));
    };
    if by {
        anyhow::bail!(
            "--by breaks the report's figures down, and --list writes a list of patients instead: the list already has a column per list_columns"
        );
    }
    let format = match format {
        Some(O::Csv) => Some(ListFormat::Csv),
        Some(O::Xlsx) => Some(ListFormat::Xlsx),
        Some(O::Json) => Some(ListFormat::Json),
        Some(f @ (O::Table | O::Html)) => anyhow::bail!(
            "--list writes csv, xlsx or json, not --format {}, which is the report's",
            if f == O::Table { "table" } else { "html" }
        ),
        None => None,
    };
    let format = list_format(format, out)?;
    Ok((
        F::Table,
        Some(crate::settings::PatientListSettings { kind, format }),
    ))
}

/// The target `report` was asked for by `--mock`, `--api-url` or `--target`; `None` when
/// no flag names one (the command then takes the ledger's).
fn report_target(args: &ReportTargetArgs) -> anyhow::Result<Option<TargetId>> {
    Ok(if args.mock {
        Some(TargetId::Mock)
    } else if let Some(url) = &args.api_url {
        Some(TargetId::url(url)?)
    } else {
        args.target.as_deref().map(TargetId::stored).transpose()?
    })
}

/// The ledger's name for the target of `--mock` or `--api-url` (its normal form, so that
/// one server is one target however its URL is spelt).
fn target_id(args: &TargetArgs) -> anyhow::Result<TargetId> {
    Ok(if args.mock {
        TargetId::Mock
    } else {
        TargetId::url(&args.api_url)?
    })
}

fn init(args: InitArgs, color: bool) -> Config {
    let InitArgs {
        dir,
        patients,
        phone_column,
        sheet,
        country,
        name,
        kind,
        out,
        schema,
        yes,
        force,
    } = args;
    Config::Init(InitSettings {
        dir,
        patients,
        phone_column,
        sheet,
        country,
        name,
        kind: kind.map(|k| {
            if k == "conversation" {
                Kind::Conversation
            } else {
                Kind::Robocall
            }
        }),
        out,
        schema,
        yes,
        force,
        interactive: !yes && std::io::stdin().is_terminal(),
        color,
    })
}

fn plan(args: PlanArgs, color: bool) -> anyhow::Result<Config> {
    let PlanArgs {
        campaign,
        out,
        format,
        unmask,
        strict,
        detailed_exitcode,
        sample,
        mock,
        api_url,
        api_key_file,
        state,
        compare,
        callback_url,
        list,
        sources: _,
    } = args;
    let (format, list) = plan_output(
        format,
        list,
        out.as_deref(),
        (compare.is_some(), strict, detailed_exitcode),
    )?;
    let out = if list.is_some() { None } else { out };
    if !mock && let Some(url) = &api_url {
        crate::clock::reaching_a_server(&crate::settings::target::shown_url(url));
    }
    Ok(Config::Plan(PlanSettings {
        callback_url: callback_url.map(SecretString::from),
        state: state.map(ledger_location).transpose()?,
        key: api_key(&TargetArgs {
            mock,
            api_url: api_url.clone().unwrap_or_default(),
            api_key_file,
            state: None,
        })?,
        target: if mock {
            Some(Target::Mock)
        } else {
            api_url
                .as_deref()
                .map(ApiUrl::parse)
                .transpose()?
                .map(Target::Url)
        },
        campaign: campaign_file(campaign)?,
        out,
        format,
        unmask,
        strict,
        detailed_exitcode,
        sample,
        color,
        compare,
        list,
    }))
}

/// What `plan` writes: the plan in a format, or with `--list` a list in a list's format to
/// `--out` (or stdout); contradictory flags refused in words. `asked` is whether
/// --compare, --strict and --detailed-exitcode were given, which are about a plan.
fn plan_output(
    format: Option<PlanOutput>,
    list: Option<ListKind>,
    out: Option<&Path>,
    (compare, strict, detailed): (bool, bool, bool),
) -> anyhow::Result<(PlanFormat, Option<ListSettings>)> {
    let Some(kind) = list else {
        return Ok((
            match format {
                None | Some(PlanOutput::Human) => PlanFormat::Human,
                Some(PlanOutput::Json) => PlanFormat::Json,
                Some(PlanOutput::Markdown) => PlanFormat::Markdown,
                Some(f @ (PlanOutput::Csv | PlanOutput::Xlsx)) => anyhow::bail!(
                    "--format {} is a list's format: add --list skipped for the list of skipped rows, or choose human, json or markdown for the plan",
                    if f == PlanOutput::Csv { "csv" } else { "xlsx" }
                ),
            },
            None,
        ));
    };
    for (given, flag, what) in [
        (compare, "--compare", "shows what changed in the plan"),
        (strict, "--strict", "refuses the plan"),
        (
            detailed,
            "--detailed-exitcode",
            "says whether the plan has calls pending",
        ),
    ] {
        if given {
            anyhow::bail!(
                "{flag} {what}, and --list writes a list instead of the plan: run them as two commands"
            );
        }
    }
    let format = match format {
        Some(PlanOutput::Csv) => Some(ListFormat::Csv),
        Some(PlanOutput::Xlsx) => Some(ListFormat::Xlsx),
        Some(PlanOutput::Json) => Some(ListFormat::Json),
        Some(f @ (PlanOutput::Human | PlanOutput::Markdown)) => {
            let name = if f == PlanOutput::Human {
                "human"
            } else {
                "markdown"
            };
            anyhow::bail!(
                "--list writes csv, xlsx or json, not --format {name}, which is the plan's"
            )
        }
        None => None,
    };
    let format = list_format(format, out)?;
    Ok((
        PlanFormat::Human,
        Some(ListSettings {
            kind,
            format,
            out: out.map(Path::to_path_buf),
        }),
    ))
}

fn apply(args: ApplyArgs) -> anyhow::Result<Config> {
    let ApplyArgs {
        input,
        target,
        yes,
        new_ledger,
        overwrite_workflow,
        callback_token_file,
        moved_from,
        max_calls,
        dry_run,
        no_wait,
        no_follow,
        enforce_schedule,
        resend_in_doubt,
        in_doubt_grace,
        lease,
        follow_timeout,
        format,
        json,
        sources: _,
    } = args;
    if !target.mock {
        crate::clock::reaching_a_server(&crate::settings::target::shown_url(&target.api_url));
    }
    Ok(Config::Apply(ApplySettings {
        lease: Duration::try_from_secs_f64(lease)
            .ok()
            .filter(|d| *d >= Duration::from_millis(300))
            .context("--lease must be at least 0.3 seconds")?,
        in_doubt_grace: Duration::from_secs(in_doubt_grace),
        enforce_schedule: enforce_schedule || !target.mock,
        key: api_key(&target)?,
        target: if target.mock {
            Target::Mock
        } else {
            Target::Url(ApiUrl::parse(&target.api_url)?)
        },
        state: target.state.clone().map(ledger_location).transpose()?,
        input: campaign_file(input)?,
        yes,
        new_ledger,
        overwrite_workflow,
        callback_token: super::callbacks::token(
            callback_token_file.as_deref(),
            super::callbacks::TOKEN_ENV,
        )?,
        moved_from,
        max_calls,
        dry_run,
        no_wait,
        no_follow,
        resend_in_doubt,
        json: json || format == ApplyFormat::Json,
        follow_timeout: Duration::from_secs(follow_timeout),
        request_timeout: Duration::from_secs(30),
        locked: None,
    }))
}

fn watch(args: WatchArgs, color: bool) -> anyhow::Result<Config> {
    let WatchArgs {
        paths,
        format,
        debounce,
        unmask,
        sample,
        apply,
        mock,
        state,
        sources: _,
    } = args;
    Ok(Config::Watch(WatchSettings {
        // clap makes --apply require --mock; checked again so no path reaches a live target.
        apply: apply && mock,
        state: state.map(ledger_location).transpose()?,
        paths: if paths.is_empty() {
            vec![default_campaigns()]
        } else {
            paths
        },
        format,
        debounce_ms: debounce,
        unmask,
        sample,
        color,
    }))
}

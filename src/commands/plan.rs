//! `outreach plan`: validate, resolve patients, render, and show (and save) who would be
//! called with what words; with a target, check the workflow's message too.

use std::io::Write;

use anyhow::Context as _;

use crate::Outcome;
use crate::campaign;
use crate::client;
use crate::endpoint::Endpoint;
use crate::ledger;
use crate::plan::{self, workflow_check::WorkflowCheck};
use crate::settings::formats::ListKind;
use crate::settings::target::{Target, TargetId};
use crate::settings::{ListSettings, PlanSettings};
use crate::validate;

/// Fetches the campaign's workflow from a target and checks it.
fn check_workflow(
    target: &Target,
    key: Option<secrecy::SecretString>,
    campaign: &campaign::Campaign,
) -> anyhow::Result<WorkflowCheck> {
    let Some(workflow_id) = campaign.workflow_id.as_deref() else {
        anyhow::bail!("the campaign declares its workflow: it has no workflow_id to fetch");
    };
    let (name, workflow) = fetch_workflow(target, key, workflow_id)?;
    Ok(WorkflowCheck::new(&name, campaign, workflow))
}

/// The workflow `workflow_id` on a target (`None`: the target answered 404), and the
/// target's name for people.
fn fetch_workflow(
    target: &Target,
    key: Option<secrecy::SecretString>,
    workflow_id: &str,
) -> anyhow::Result<(String, Option<voicebot_api::wire::Workflow>)> {
    on_target(target, key, "fetch", async |client, name| {
        client
            .workflow(workflow_id)
            .await
            .map_err(|e| anyhow::anyhow!("fetching the workflow from {name}: {e}"))
    })
}

/// Runs `ask` with a client of the target (the bundled mock started for it, and stopped
/// after), on a runtime of its own; what it found and the target's name for people. `what`
/// the plan does with the workflow, for the error without a key.
fn on_target<T>(
    target: &Target,
    key: Option<secrecy::SecretString>,
    what: &str,
    ask: impl AsyncFnOnce(&client::Client, &str) -> anyhow::Result<T>,
) -> anyhow::Result<(String, T)> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let endpoint = Endpoint::open(target).await?;
        let key = match key {
            Some(k) => k,
            None if matches!(target, Target::Mock) => {
                secrecy::SecretString::from("outreach-mock-key")
            }
            None => anyhow::bail!(
                "no API key to {what} the workflow: set INTRON_API_KEY or pass --api-key-file FILE"
            ),
        };
        let client = client::Client::new(&endpoint.base, key, std::time::Duration::from_secs(30))
            .map_err(anyhow::Error::msg)?;
        let found = ask(&client, &endpoint.name).await?;
        let name = endpoint.name.clone();
        endpoint.close().await;
        Ok((name, found))
    })
}

/// Why the workflow's `call_back_url` (`have`) is not the receiver's (`wanted`), if it is
/// not. Neither is shown: both hold the receiver's token.
fn callback_problem(have: Option<&str>, wanted: &secrecy::SecretString) -> Option<String> {
    use secrecy::ExposeSecret as _;
    let same = |a: &str, b: &str| {
        let parse = |u: &str| {
            reqwest::Url::parse(u.trim()).ok().map(|mut u| {
                let path = u.path().trim_end_matches('/').to_owned();
                u.set_path(&path);
                u
            })
        };
        match (parse(a), parse(b)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    };
    match have.map(str::trim).filter(|h| !h.is_empty()) {
        None => Some(
            "the workflow has no call_back_url, so the service sends its outcomes nowhere: set it to the receiver's URL (see `outreach callbacks`)".to_owned(),
        ),
        Some(h) if !same(h, wanted.expose_secret()) => Some(
            "the workflow's call_back_url is not the --callback-url given (neither is shown: they hold the receiver's token), so its outcomes would not reach this ledger's receiver".to_owned(),
        ),
        Some(_) => None,
    }
}

/// The workflow checked on the plan's target, if any, or why it was not checked.
fn checked_workflow(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
) -> anyhow::Result<(Option<WorkflowCheck>, Option<String>)> {
    // A declared workflow's message is the file's: checked offline, every row measured.
    if let Some(declared) = &campaign.workflow {
        let words = crate::campaign::workflow::Comparable::declared(declared, campaign.kind);
        let workflow = voicebot_api::wire::Workflow {
            id: String::new(),
            name: words.name.clone(),
            description: words.description.clone(),
            workflow_type: crate::campaign::workflow::workflow_type(campaign.kind),
            message: words.message.clone(),
            include_reply: words.include_reply,
            response_options: words.response_options.clone(),
            call_back_url: None,
            status: voicebot_api::wire::WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        };
        let mut check = WorkflowCheck::new("the campaign file", campaign, Some(workflow));
        if let Some(wanted) = &s.callback_url {
            use secrecy::ExposeSecret as _;
            let wanted = crate::campaign::workflow::without_token(
                wanted.expose_secret(),
                words.call_back_url.as_deref(),
            );
            match &words.call_back_url {
                None => check.problems.push(
                    "the workflow declares no call_back_url, so the service would send its outcomes nowhere: set `workflow.call_back_url` to the receiver's URL (see `outreach callbacks`)".to_owned(),
                ),
                Some(base) if *base != wanted => check.problems.push(
                    "the workflow's call_back_url is not the --callback-url given (neither is shown in full: the flag's holds the receiver's token), so its outcomes would not reach this ledger's receiver".to_owned(),
                ),
                Some(_) => {}
            }
        }
        return Ok((Some(check), None));
    }
    let mut check = match &s.target {
        Some(target) => Some(check_workflow(target, s.key.clone(), campaign)?),
        None => None,
    };
    // The workflow GET is this project's guess of the service's API ([ours]): a 404 from a
    // server that is not the bundled mock may mean it has no such endpoint, not that the
    // workflow does not exist. Then the workflow is not checked, and the plan says so.
    let mut unchecked = check.is_none().then(|| {
        "no target given (--mock or --api-url), so the workflow's message and placeholders were not fetched".to_owned()
    });
    if let (Some(target), Some(c)) = (&s.target, &check)
        && c.workflow.is_none()
        && !matches!(target, Target::Mock)
    {
        unchecked = Some(format!(
            "{} answered 404 to the workflow lookup (GET /voicebot/v1/workflows/{}, which the service's public docs do not list), so the workflow's type, status, message and placeholders were not checked; check them in the service's dashboard",
            c.target,
            campaign.workflow_id.as_deref().unwrap_or_default()
        ));
        check = None;
    }
    if let (Some(c), Some(wanted)) = (&mut check, &s.callback_url)
        && let Some(w) = &c.workflow
        && let Some(problem) = callback_problem(w.call_back_url.as_deref(), wanted)
    {
        c.problems.push(problem);
    }
    Ok((check, unchecked))
}

/// Where a declared workflow stands on the plan's target: the ledger's binding (what apply
/// last pushed there) against the file and, where the service offers the workflow GET, the
/// service's copy. `None` for a campaign that names its workflow by id.
fn declared_state(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
    (target_id, language): (&str, &str),
) -> anyhow::Result<Option<plan::declared::DeclaredState>> {
    use crate::campaign::workflow::Comparable;
    use plan::declared::{Bound, DeclaredState, Drift, EarlierCalls, Service};
    let Some(declared) = &campaign.workflow else {
        return Ok(None);
    };
    let file = Comparable::declared(declared, campaign.kind);
    let Some(target) = &s.target else {
        return Ok(Some(DeclaredState {
            file,
            drift: Drift::NotCompared,
            target: None,
            earlier: None,
            found_by_name: false,
        }));
    };
    let state = s
        .state
        .clone()
        .unwrap_or_else(|| crate::apply::default_state(&s.campaign));
    let ledger = match ledger::Location::of(&state)? {
        ledger::Location::File(path) if !path.exists() => None,
        _ => Some(ledger::Ledger::open(&state)?),
    };
    let round = campaign.round.as_deref().unwrap_or("");
    let bound = match &ledger {
        Some(l) => l
            .workflow_binding(&ledger::BindingKey {
                target: target_id,
                campaign: &campaign.name,
                workflow_name: &declared.name,
                language,
            })?
            .map(|b| Bound {
                pushed: Comparable::from_json(&b.pushed),
                workflow_id: b.workflow_id,
                digest: b.digest,
            }),
        None => None,
    };
    let mut found_by_name = false;
    let (name, service, bound) = if let Some(b) = bound {
        let (name, found) = fetch_workflow(target, s.key.clone(), &b.workflow_id)?;
        let service = match found {
            Some(w) => Service::Found(Box::new(w)),
            // Only the bundled mock is known to offer the GET: elsewhere a 404 may mean
            // the endpoint, not the workflow, is missing.
            None if matches!(target, Target::Mock) => Service::Gone,
            None => Service::NotOffered,
        };
        (name, service, Some(b))
    } else {
        // Nothing bound: a workflow of the file's name on the service is compared with
        // (one moved into the file with `workflows pull` plans as unchanged).
        let (name, listed) = list_workflows(target, s.key.clone())?;
        match plan::declared::same_name(&file, &listed) {
            Some(w) => {
                found_by_name = true;
                let bound = Bound::found(w, &file);
                (name, Service::Found(Box::new(w.clone())), Some(bound))
            }
            None => (name, Service::NotAsked, None),
        }
    };
    let drift = Drift::of(&file, bound.as_ref(), &service, true);
    let earlier = match (&ledger, drift.creates() && bound.is_some()) {
        (Some(l), true) => {
            let calls = l.history(target_id, &campaign.name, round)?;
            let mut e = EarlierCalls::default();
            for h in calls.values() {
                use crate::ledger::CallState as S;
                if !matches!(h.state, S::Rejected | S::NotSent) {
                    e.called += 1;
                }
                if h.state == S::Answered {
                    e.answered += 1;
                }
            }
            Some(e)
        }
        _ => None,
    };
    Ok(Some(DeclaredState {
        file,
        drift,
        target: Some(name),
        earlier,
        found_by_name,
    }))
}

/// The workflows a target lists ([ours]: none where the list is not offered), and the
/// target's name for people.
/// Each language of a campaign in several, checked as a campaign of its voice and workflow
/// would be: its workflow fetched or read from the file, and a declared one's state on the
/// target (bound under the language).
fn language_views<'c>(
    s: &PlanSettings,
    campaign: &'c campaign::Campaign,
    target_id: &str,
) -> anyhow::Result<Vec<crate::report::plan::LanguageView<'c>>> {
    let mut out = Vec::new();
    for (key, language) in &campaign.languages {
        let Some(one) = campaign.in_language(key) else {
            continue;
        };
        let (check, unchecked) = checked_workflow(s, &one)?;
        let declared = declared_state(s, &one, (target_id, key))?;
        out.push(crate::report::plan::LanguageView {
            key,
            language,
            check,
            unchecked,
            declared,
        });
    }
    Ok(out)
}

fn list_workflows(
    target: &Target,
    key: Option<secrecy::SecretString>,
) -> anyhow::Result<(String, Vec<voicebot_api::wire::Workflow>)> {
    on_target(target, key, "compare", async |client, name| {
        Ok(match client.workflows_all().await {
            Ok(Some(all)) => all.workflows,
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(
                    "cannot list the workflows on {name} ({e}): a workflow of the same name there is not looked for"
                );
                Vec::new()
            }
        })
    })
}

/// Runs `outreach plan`.
/// When the calls can go. A schedule that is over places nothing on a live target: an error
/// there (`None`, said); offline and on the mock the plan is still shown, with a warning.
fn when(s: &PlanSettings, campaign: &campaign::Campaign) -> Option<plan::timing::Timing> {
    let timing = plan::timing::Timing::at(campaign, crate::clock::now());
    if let Some(over) = timing.over_sentence() {
        if matches!(s.target, Some(Target::Url(_))) {
            tracing::error!("{}: {over}", s.campaign.display());
            return None;
        }
        tracing::warn!("{}: {over}", s.campaign.display());
    }
    Some(timing)
}

pub fn run(s: &PlanSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if !s.campaign.is_file() {
        anyhow::bail!("{}: no such campaign file", s.campaign.display());
    }
    let checked = validate::check_file(&s.campaign);
    let Some(campaign) = checked.campaign else {
        // The plan of an invalid campaign means nothing: show why it is invalid.
        show_invalid(s, &checked.report, out)?;
        return Ok(Outcome::Problems);
    };
    if let Some(list) = &s.list {
        return write_list(s, list, &campaign, out);
    }
    let Some(timing) = when(s, &campaign) else {
        return Ok(Outcome::Problems);
    };
    // The plan to compare with is read first: a bad --compare is known before any work.
    let before = s.compare.as_deref().map(read_saved_plan).transpose()?;
    let mut overview = plan::Overview::new(s.sample);
    // Once calls were made, the plan subtracts them (per target, as apply records them).
    let target_id = s
        .target
        .as_ref()
        .map_or_else(TargetId::live, Target::id)
        .to_string();
    // A campaign in several languages is checked language by language, each as a campaign
    // of its own voice and workflow would be.
    let (mut check, unchecked, declared) = if campaign.has_languages() {
        (None, None, None)
    } else {
        let (check, unchecked) = checked_workflow(s, &campaign)?;
        (
            check,
            unchecked,
            declared_state(s, &campaign, (&target_id, ""))?,
        )
    };
    let mut languages = language_views(s, &campaign, &target_id)?;
    let history = history(s, &campaign, &target_id)?;
    let mut now = crate::plan::diff::Snapshot::default();
    // The fetched workflow's words go into the header, for the settings the plan records.
    let fetched = check
        .as_ref()
        .filter(|_| campaign.workflow.is_none())
        .and_then(|c| c.workflow.clone());
    {
        // The snapshot is only kept (it holds every call) when there is something to compare.
        let mut nothing = plan::Discard;
        let snapshot: &mut dyn plan::Sink = if before.is_some() {
            &mut now
        } else {
            &mut nothing
        };
        // Every message measured against its workflow (its language's, in several).
        let mut measure = crate::plan::workflow_check::LanguageLengths {
            checks: check
                .as_mut()
                .map(|c| (None, c))
                .into_iter()
                .chain(
                    languages
                        .iter_mut()
                        .filter_map(|l| l.check.as_mut().map(|c| (Some(l.key), c))),
                )
                .collect(),
            kind: campaign.kind,
        };
        let mut inner = plan::Tee(snapshot, &mut measure);
        let mut report = plan::Tee(&mut overview, &mut inner);
        let make = |sink: &mut dyn plan::Sink| {
            make_plan(s, &campaign, history, &target_id, fetched.as_ref(), sink)
        };
        match &s.out {
            Some(path) => {
                plan::save_with(path, |writer| make(&mut plan::Tee(writer, &mut report)))?
            }
            None => make(&mut report)?,
        };
    }
    if campaign.kind == campaign::Kind::Conversation {
        // A saved conversation plan holds the entries as sent, and those carry no tags.
        for c in now.calls.values_mut() {
            c.rendered.tags.clear();
        }
    }
    let changes = changes(s, before.as_ref(), &now);
    let summary = overview.summary.clone();
    let all_checks = check
        .iter_mut()
        .chain(languages.iter_mut().filter_map(|l| l.check.as_mut()));
    all_checks.for_each(WorkflowCheck::finish);
    let refused = refuse_or_warn(s, &campaign, &overview)?;
    let saved = s.out.as_deref().filter(|_| refused.is_none());
    let view = crate::report::plan::PlanView {
        campaign: &campaign,
        campaign_path: &s.campaign,
        overview: &overview,
        unmask: s.unmask,
        saved_to: saved,
        message_unchecked: unchecked.as_deref(),
        workflow: check.as_ref(),
        declared: declared.as_ref(),
        languages: &languages,
        changes: changes.as_ref(),
        timing: Some(&timing),
    };
    crate::report::plan::write(s.format, &view, out)?;
    let problems = check
        .iter()
        .chain(languages.iter().filter_map(|l| l.check.as_ref()));
    if problems.into_iter().any(|c| !c.problems.is_empty()) {
        return Ok(Outcome::Problems);
    }
    if let Some(why) = refused {
        tracing::error!("{why}");
        return Ok(Outcome::Problems);
    }
    // With --compare, anything that differs from the base plan is a change to review (exit 2
    // with --detailed-exitcode), even when it leaves no call to place.
    let differs = changes.as_ref().is_some_and(|c| c.diff.differs())
        || declared.as_ref().is_some_and(|d| d.drift.is_change())
        || languages
            .iter()
            .any(|l| l.declared.as_ref().is_some_and(|d| d.drift.is_change()));
    Ok(if summary.calls > 0 || differs {
        Outcome::Pending
    } else {
        Outcome::Success
    })
}

/// What changed since the plan compared with (`--compare`).
fn changes<'p>(
    s: &'p PlanSettings,
    before: Option<&crate::plan::diff::Snapshot>,
    now: &crate::plan::diff::Snapshot,
) -> Option<crate::report::plan::Changes<'p>> {
    let (before, path) = (before?, s.compare.as_deref()?);
    Some(crate::report::plan::Changes {
        against: path,
        diff: crate::plan::diff::diff(before, now),
        sources: now.sources.clone(),
        sample: s.sample,
    })
}

/// Why the plan is refused ([`refusal`]; its saved file removed), or the warning of a
/// misplaced default.
fn refuse_or_warn(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
    overview: &plan::Overview,
) -> anyhow::Result<Option<String>> {
    let refused = refusal(s, campaign, overview);
    if refused.is_none()
        && let Some(m) = misplaced(campaign, overview)
    {
        tracing::warn!("{m}; --strict makes this an error");
    }
    if refused.is_some()
        && let Some(path) = &s.out
    {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(refused)
}

/// `plan --list skipped`: the plan made (less what the ledger placed, as `plan` shows it),
/// every skipped row written to the list; no plan is shown or saved, and no workflow fetched.
fn write_list(
    s: &PlanSettings,
    list: &ListSettings,
    campaign: &campaign::Campaign,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    use crate::report::list_file::Destination;
    use crate::report::skipped_list;
    let ListKind::Skipped = list.kind;
    let target_id = s
        .target
        .as_ref()
        .map_or_else(TargetId::live, Target::id)
        .to_string();
    let history = history(s, campaign, &target_id)?;
    let destination = match &list.out {
        Some(path) => Destination::File(path),
        None => Destination::Stdout(&mut *out),
    };
    let rows = skipped_list::write(campaign, list.format, destination, s.unmask, |sink| {
        make_plan(s, campaign, history, &target_id, None, sink)
            .map(drop)
            .map_err(anyhow::Error::from)
    })?;
    if let Some(path) = &list.out {
        skipped_list::wrote(rows, &campaign.name, path, out)?;
    }
    Ok(Outcome::Success)
}

/// Why a plan that was made is refused (exit 1, nothing saved): a source whose templates
/// fill no row is a broken template, not "nothing to call"; with --strict, any row skipped
/// for a template.
fn refusal(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
    overview: &plan::Overview,
) -> Option<String> {
    let unsaved = if s.out.is_some() {
        "; no plan saved"
    } else {
        ""
    };
    unrendered_sources(overview)
        .map(|why| format!("{why}{unsaved}"))
        .or_else(|| {
            (s.strict && overview.template_skips > 0).then(|| {
                let meant = misplaced(campaign, overview)
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default();
                let n = overview.template_skips;
                let rows = if n == 1 { "row was" } else { "rows were" };
                format!(
                    "--strict: {n} {rows} skipped because a template has no value for them{meant}{unsaved}"
                )
            })
        })
}

/// The skips a default was meant to prevent: rows skipped for an empty column that a default
/// under another key (`clinic` for `Clinic`) was probably written for.
fn misplaced(campaign: &campaign::Campaign, overview: &plan::Overview) -> Option<String> {
    let said: Vec<String> = validate::misplaced_defaults(campaign)
        .into_iter()
        .filter_map(|(key, column)| {
            let n = *overview.missing_columns.get(&column)?;
            let rows = if n == 1 { "row was" } else { "rows were" };
            Some(format!(
                "{n} {rows} skipped for an empty `{column}`, which the default `{key}` was probably meant for: defaults are keyed by the column a template reads, so write it as `{column}`"
            ))
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// The patient sources whose every row that reached its words was skipped as `missing-value`
/// or `template-error`, in one line: "every row of patients.csv was skipped: …".
fn unrendered_sources(overview: &plan::Overview) -> Option<String> {
    let failed: Vec<String> = overview
        .rendering
        .iter()
        .filter(|(_, r)| r.none_rendered())
        .map(|(&i, r)| {
            let label = overview
                .header
                .as_ref()
                .and_then(|h| h.sources.get(i))
                .map_or_else(|| format!("patient source {}", i + 1), |s| s.label.clone());
            let example = r
                .first_failure
                .as_ref()
                .map(|f| format!("; row {}: {}", f.row, f.reason))
                .unwrap_or_default();
            let rows = if r.failed == 1 { "row" } else { "rows" };
            format!(
                "every row of {label} was skipped: a template could not be filled on any row that could be called ({} {rows}{example})",
                r.failed
            )
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// A plan saved with `plan --out`, for `plan --compare`.
fn read_saved_plan(path: &std::path::Path) -> anyhow::Result<crate::plan::diff::Snapshot> {
    let saved = plan::saved::read(path).context("--compare")?;
    Ok(saved.into())
}

/// Shows why a campaign is invalid, in the plan's format where it has a match.
fn show_invalid(
    s: &PlanSettings,
    report: &crate::load::diagnostic::FileReport,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format = match s.format {
        crate::settings::formats::PlanFormat::Json => {
            crate::settings::formats::ValidateFormat::Json
        }
        _ => crate::settings::formats::ValidateFormat::Human,
    };
    crate::report::validation::reporter(format, s.color)
        .validation(std::slice::from_ref(report), out)?;
    Ok(())
}

/// What the ledger has placed for the campaign on the target, if a ledger exists.
/// Plans `campaign` into `sink`: with the fetched workflow's words in its header, less the
/// calls the ledger's `history` placed and the numbers whose reply opted them out.
fn make_plan(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
    history: Option<crate::plan::subtract::Recorded>,
    target_id: &str,
    fetched: Option<&voicebot_api::wire::Workflow>,
    sink: &mut dyn plan::Sink,
) -> Result<plan::Summary, plan::PlanError> {
    let sink = &mut crate::plan::workflow_check::Fetched {
        sink,
        workflow: fetched,
    };
    match history {
        Some(h) if !h.is_empty() => plan::plan(
            campaign,
            &s.campaign,
            &mut crate::plan::subtract::Subtract::new(sink, campaign, h, target_id),
        ),
        _ => plan::plan(campaign, &s.campaign, sink),
    }
}

/// What the ledger holds that the plan subtracts: the campaign round's calls, and the
/// numbers whose reply opted them out. `None` when there is no ledger yet.
fn history(
    s: &PlanSettings,
    campaign: &campaign::Campaign,
    target_id: &str,
) -> anyhow::Result<Option<crate::plan::subtract::Recorded>> {
    let state = s
        .state
        .clone()
        .unwrap_or_else(|| crate::apply::default_state(&s.campaign));
    if let ledger::Location::File(path) = ledger::Location::of(&state)?
        && !path.exists()
    {
        return Ok(None);
    }
    let ledger = ledger::Ledger::open(&state)?;
    let calls = ledger.history(
        target_id,
        &campaign.name,
        campaign.round.as_deref().unwrap_or(""),
    )?;
    let replied = ledger
        .reply_opt_outs()?
        .iter()
        .map(|p| crate::patients::phone::key_of(p))
        .collect();
    Ok(Some(crate::plan::subtract::Recorded { calls, replied }))
}

#[cfg(test)]
mod tests {
    use super::callback_problem;

    #[test]
    fn a_callback_url_matches_whatever_its_spelling_of_scheme_host_port_and_last_slash() {
        let wanted =
            secrecy::SecretString::from("https://outcomes.example.org/callbacks/s3cret-token-123");
        for same in [
            "https://outcomes.example.org/callbacks/s3cret-token-123",
            "HTTPS://Outcomes.Example.org:443/callbacks/s3cret-token-123/",
            " https://outcomes.example.org/callbacks/s3cret-token-123 ",
        ] {
            assert_eq!(callback_problem(Some(same), &wanted), None, "{same}");
        }
        for other in [
            "https://outcomes.example.org/callbacks/S3CRET-TOKEN-123",
            "https://outcomes.example.org/callbacks/old-token-000000",
            "http://outcomes.example.org/callbacks/s3cret-token-123",
            "not a url",
        ] {
            let problem = callback_problem(Some(other), &wanted).unwrap();
            assert!(
                !problem.contains("s3cret") && !problem.contains("token-"),
                "{problem}"
            );
        }
        assert!(
            callback_problem(None, &wanted)
                .unwrap()
                .contains("no call_back_url")
        );
        assert!(
            callback_problem(Some(""), &wanted)
                .unwrap()
                .contains("no call_back_url")
        );
    }
}

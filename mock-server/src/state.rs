//! The replica's state machine in plain Rust: workflows, batches and calls. Every method takes
//! the current simulated time, so tests drive the lifecycle without a clock or a server.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::chunked::{ChunkedVec, TextArena, TextRef};
use crate::clock::rfc3339;
use crate::config::{CallTiming, MockConfig, OutcomeMix};
use crate::error::ApiError;
use crate::ids::{IdCodec, IdKind, hash_bytes, mix};
use crate::validate::{self, CallKind, WorkflowFields};
use voicebot_api::wire::{
    Batch, BatchList, BatchStats, BatchStatus, CallStatus, CallbackPayload, ProcessingStatus,
    ResponseOptionsCounts, Workflow, WorkflowList, WorkflowStatus, WorkflowType,
};

/// The settings the state machine needs.
#[derive(Debug, Clone)]
pub struct ReplicaSettings {
    pub seed: u64,
    pub max_params: usize,
    pub outcomes: OutcomeMix,
    pub timing: CallTiming,
    pub workflows: Vec<Workflow>,
    pub integrator_id: String,
    /// Callback payloads in the documented form (`MockConfig::documented_only`).
    pub documented_only: bool,
}

impl From<&MockConfig> for ReplicaSettings {
    fn from(config: &MockConfig) -> Self {
        Self {
            seed: config.seed,
            max_params: config.max_params,
            outcomes: config.outcomes,
            timing: config.timing,
            workflows: config.workflows.clone(),
            integrator_id: config.integrator_id.clone(),
            documented_only: config.documented_only,
        }
    }
}

/// The final state a call is headed for, fixed when it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Answered,
    Replied,
    Failed,
    NoAnswer,
}

impl Outcome {
    fn final_status(self) -> ProcessingStatus {
        match self {
            Outcome::Answered | Outcome::Replied => ProcessingStatus::Processed,
            Outcome::Failed => ProcessingStatus::Failed,
            Outcome::NoAnswer => ProcessingStatus::Timeout,
        }
    }
}

#[derive(Debug)]
struct WorkflowRecord {
    workflow: Workflow,
    /// Index in `targets` of the workflow's current id and callback URL.
    target: u32,
}

/// What a batch needs of its workflow, shared by all batches placed between two edits of it:
/// a later edit makes a new target, so an earlier call keeps the words it was placed with.
#[derive(Debug)]
struct Target {
    workflow_id: Arc<str>,
    call_back_url: Option<Arc<str>>,
    /// The workflow's message when the batch was placed, and how its placeholders are written.
    message: Arc<str>,
    workflow_type: WorkflowType,
}

/// Where a batch's callback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallbackState {
    None,
    Waiting,
    Sending,
    Delivered,
    Failed,
}

#[derive(Debug)]
struct BatchRecord {
    target: u32,
    created_ms: u64,
    final_ms: u64,
    first_call: u32,
    call_count: u32,
    callback: CallbackState,
}

/// One placed call. Kept small: ids are derived from the index, times from the batch.
#[derive(Debug)]
struct CallRecord {
    batch: u32,
    attempt: u32,
    /// Simulated ms from placement to `VOICE_CALL_PROCESSING`.
    queued_ms: u32,
    /// Simulated ms from placement to the final state.
    final_ms: u32,
    duration_secs: u32,
    outcome: Outcome,
    /// The chosen response option; absent unless replied.
    reply: TextRef,
    /// The E.164 number's digits (at most 15, so they fit).
    phone: u64,
    /// Compact JSON object text.
    variables: TextRef,
    /// Compact JSON object text; absent when no tags were sent.
    tags: TextRef,
}

/// A call as listed by `GET /__mock/calls`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MockCall {
    pub call_id: String,
    pub batch_id: String,
    pub workflow_id: String,
    /// The workflow's message as the call was placed with it (a later edit of the workflow
    /// does not change it), its placeholders filled from `workflow_variables`: `[x]` for
    /// ROBOCALL, `{{x}}` for CONVERSATION. At most `MAX_MESSAGE_CHARS` characters.
    pub message: String,
    /// Whether `message` was cut at `MAX_MESSAGE_CHARS` (a conversation call's values may
    /// fill it past what a robocall may hear).
    pub message_truncated: bool,
    pub phone_number: String,
    /// 1 for the first call to this number since start or reset, then 2, 3, …
    pub attempt: u32,
    pub workflow_variables: Value,
    pub user_tag_identifiers: Value,
    pub processing_status: ProcessingStatus,
    /// The final state the call is headed for (drawn when it was placed).
    pub outcome: Outcome,
    pub reply: Option<String>,
    pub call_duration_in_seconds: Option<u64>,
    pub created_at: String,
    pub final_at: String,
}

/// A callback ready to send.
#[derive(Debug, Clone)]
pub struct DueCallback {
    pub epoch: u64,
    pub batch: u32,
    pub url: String,
    pub payload: CallbackPayload,
}

/// The replica: all workflows, batches and calls.
#[derive(Debug)]
pub struct ReplicaState {
    settings: ReplicaSettings,
    epoch: u64,
    codec: IdCodec,
    workflow_counter: u64,
    workflows: Vec<WorkflowRecord>,
    targets: Vec<Target>,
    batches: ChunkedVec<BatchRecord>,
    calls: ChunkedVec<CallRecord>,
    /// Variables, tags and replies of calls.
    text: TextArena,
    /// A reused serialisation buffer.
    scratch: Vec<u8>,
    /// Calls placed so far per phone number (keyed by a hash of the number).
    attempts: HashMap<u64, u32>,
    /// Batches with a callback URL that are not final yet: (final time, batch index).
    pending_callbacks: BTreeSet<(u64, u32)>,
}

fn draw(range: [u32; 2], hash: u64) -> u32 {
    let [min, max] = range;
    let span = u64::from(max - min) + 1;
    // The remainder is below `span`, which fits in u32.
    #[expect(clippy::cast_possible_truncation, reason = "hash % span < 2^32")]
    let offset = (hash % span) as u32;
    min + offset
}

impl ReplicaState {
    pub fn new(settings: ReplicaSettings, now_ms: u64) -> Self {
        let codec = IdCodec::new(settings.seed, 0);
        let mut state = Self {
            settings,
            epoch: 0,
            codec,
            workflow_counter: 0,
            workflows: Vec::new(),
            targets: Vec::new(),
            batches: ChunkedVec::default(),
            calls: ChunkedVec::default(),
            text: TextArena::default(),
            scratch: Vec::new(),
            attempts: HashMap::new(),
            pending_callbacks: BTreeSet::new(),
        };
        state.seed_workflows(now_ms);
        state
    }

    fn seed_workflows(&mut self, now_ms: u64) {
        let stamp = rfc3339(now_ms);
        self.workflows = Vec::new();
        self.targets = Vec::new();
        for mut workflow in self.settings.workflows.clone() {
            workflow.created_at.get_or_insert_with(|| stamp.clone());
            workflow.updated_at.get_or_insert_with(|| stamp.clone());
            let record = self.record(workflow);
            self.workflows.push(record);
        }
    }

    /// A record for `workflow`, with a fresh target.
    fn record(&mut self, workflow: Workflow) -> WorkflowRecord {
        let target = self.push_target(&workflow);
        WorkflowRecord { workflow, target }
    }

    fn push_target(&mut self, workflow: &Workflow) -> u32 {
        self.targets.push(Target {
            workflow_id: Arc::from(workflow.id.as_str()),
            call_back_url: workflow.call_back_url.as_deref().map(Arc::from),
            message: Arc::from(workflow.message.as_str()),
            workflow_type: workflow.workflow_type.clone(),
        });
        u32::try_from(self.targets.len() - 1).unwrap_or(u32::MAX)
    }

    /// Forgets every batch, call and created workflow; seeded workflows come back. Ids
    /// handed out before no longer resolve.
    pub fn reset(&mut self, now_ms: u64) {
        self.epoch += 1;
        self.codec = IdCodec::new(self.settings.seed, self.epoch);
        self.workflow_counter = 0;
        self.batches = ChunkedVec::default();
        self.calls = ChunkedVec::default();
        self.text = TextArena::default();
        self.attempts = HashMap::new();
        self.pending_callbacks.clear();
        self.seed_workflows(now_ms);
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn outcomes(&self) -> OutcomeMix {
        self.settings.outcomes
    }

    /// Changes the outcome mix of calls placed from now on.
    pub fn set_outcomes(&mut self, outcomes: OutcomeMix) {
        self.settings.outcomes = outcomes;
    }

    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    fn workflow(&self, id: &str) -> Option<&WorkflowRecord> {
        self.workflows.iter().find(|w| w.workflow.id == id)
    }

    fn workflow_not_found(id: &str) -> ApiError {
        ApiError::not_found(format!("workflow '{id}' not found"))
    }

    /// `POST /voicebot/v1/call` or `/voicebot/v1/convobot/call`: validates and places one
    /// call per entry, returning the batch id.
    pub fn place_calls(
        &mut self,
        body: Value,
        kind: CallKind,
        now_ms: u64,
    ) -> Result<String, ApiError> {
        let request = validate::call_request(body, kind, self.settings.max_params)?;
        let record = self.workflow(&request.workflow_id).ok_or_else(|| {
            ApiError::not_found(format!("workflow_id '{}' not found", request.workflow_id))
        })?;
        let workflow = &record.workflow;
        match (kind, &workflow.workflow_type) {
            (CallKind::Robocall, WorkflowType::Robocall)
            | (CallKind::Conversation, WorkflowType::Conversation) => {}
            (CallKind::Robocall, other) => {
                return Err(ApiError::conflict(format!(
                    "workflow '{}' is a {other} workflow; this endpoint places ROBOCALL workflows (conversation calls go to POST /voicebot/v1/convobot/call)",
                    workflow.id
                )));
            }
            (CallKind::Conversation, other) => {
                return Err(ApiError::conflict(format!(
                    "workflow '{}' is a {other} workflow; this endpoint places CONVERSATION workflows (robocalls go to POST /voicebot/v1/call)",
                    workflow.id
                )));
            }
        }
        if workflow.status != WorkflowStatus::Active {
            return Err(ApiError::conflict(format!(
                "workflow '{}' is {}; only ACTIVE workflows can place calls",
                workflow.id, workflow.status
            )));
        }
        validate::render_check(
            &workflow.message,
            &workflow.workflow_type,
            &request.entries,
            kind,
        )?;
        let reply_keys: Vec<String> = if workflow.include_reply {
            workflow.response_options.keys().cloned().collect()
        } else {
            Vec::new()
        };
        let target = record.target;
        let has_callback = self.targets[target as usize].call_back_url.is_some();
        let batch_index = u32::try_from(self.batches.len())
            .map_err(|_| ApiError::new(507, "the mock is full"))?;
        let first_call =
            u32::try_from(self.calls.len()).map_err(|_| ApiError::new(507, "the mock is full"))?;
        let mut batch_final = 0u32;
        for entry in request.entries {
            let call = self.new_call(batch_index, entry, &reply_keys);
            batch_final = batch_final.max(call.final_ms);
            self.calls.push(call);
        }
        let call_count = u32::try_from(self.calls.len()).unwrap_or(u32::MAX) - first_call;
        let final_ms = now_ms + u64::from(batch_final);
        let callback = if has_callback {
            self.pending_callbacks.insert((final_ms, batch_index));
            CallbackState::Waiting
        } else {
            CallbackState::None
        };
        self.batches.push(BatchRecord {
            target,
            created_ms: now_ms,
            final_ms,
            first_call,
            call_count,
            callback,
        });
        Ok(self.codec.encode(IdKind::Batch, u64::from(batch_index)))
    }

    /// Draws a call's outcome and timing from (seed, phone number, attempt number) only.
    fn new_call(
        &mut self,
        batch: u32,
        entry: validate::Entry,
        reply_keys: &[String],
    ) -> CallRecord {
        let seed = self.settings.seed;
        let attempt = {
            let count = self
                .attempts
                .entry(hash_bytes(0, &[entry.phone_number.as_bytes()]))
                .or_insert(0);
            *count += 1;
            *count
        };
        let h = hash_bytes(
            seed,
            &[
                b"outcome",
                entry.phone_number.as_bytes(),
                &attempt.to_le_bytes(),
            ],
        );
        let mix_ = self.settings.outcomes;
        let mut pick = h % mix_.total();
        let mut outcome = Outcome::NoAnswer;
        for (candidate, weight) in [
            (Outcome::Answered, mix_.answered),
            (Outcome::Replied, mix_.replied),
            (Outcome::Failed, mix_.failed),
            (Outcome::NoAnswer, mix_.no_answer),
        ] {
            if pick < u64::from(weight) {
                outcome = candidate;
                break;
            }
            pick -= u64::from(weight);
        }
        if outcome == Outcome::Replied && reply_keys.is_empty() {
            outcome = Outcome::Answered;
        }
        let timing = self.settings.timing;
        let queued = draw(timing.queued_secs, mix(h ^ 1));
        let ringing = draw(timing.ringing_secs, mix(h ^ 2));
        let (processing, duration) = match outcome {
            Outcome::Answered | Outcome::Replied => {
                let talk = draw(timing.talk_secs, mix(h ^ 3));
                (ringing + talk, talk)
            }
            Outcome::Failed => (ringing, 0),
            Outcome::NoAnswer => (timing.no_answer_after_secs, 0),
        };
        let reply = if outcome == Outcome::Replied {
            let len = reply_keys.len() as u64;
            // Index below len, a small vector length.
            #[expect(clippy::cast_possible_truncation, reason = "< reply_keys.len()")]
            let index = (mix(h ^ 4) % len) as usize;
            self.text.push(&reply_keys[index])
        } else {
            TextRef::default()
        };
        // Serialised into a reused buffer: no allocation per call.
        self.scratch.clear();
        let variables = match serde_json::to_writer(&mut self.scratch, &entry.variables) {
            Ok(()) => self
                .text
                .push(std::str::from_utf8(&self.scratch).unwrap_or("{}")),
            Err(_) => self.text.push("{}"),
        };
        let tags = match entry.tags {
            Some(tags) => self.text.push(&Value::Object(tags).to_string()),
            None => TextRef::default(),
        };
        CallRecord {
            batch,
            attempt,
            queued_ms: queued * 1000,
            final_ms: (queued + processing) * 1000,
            duration_secs: duration,
            outcome,
            reply,
            phone: phone_digits(&entry.phone_number),
            variables,
            tags,
        }
    }

    fn status_of(&self, call: &CallRecord, now_ms: u64) -> ProcessingStatus {
        let created = self.batches[call.batch as usize].created_ms;
        let elapsed = now_ms.saturating_sub(created);
        if elapsed < u64::from(call.queued_ms) {
            ProcessingStatus::Queued
        } else if elapsed < u64::from(call.final_ms) {
            ProcessingStatus::Processing
        } else {
            call.outcome.final_status()
        }
    }

    fn call_status_of(&self, index: usize, now_ms: u64) -> CallStatus {
        let call = &self.calls[index];
        let status = self.status_of(call, now_ms);
        let is_final = status.is_final();
        CallStatus {
            call_id: self.codec.encode(IdKind::Call, index as u64),
            call_duration_in_seconds: is_final.then_some(u64::from(call.duration_secs)),
            processing_status: status,
            batch_id: Some(self.codec.encode(IdKind::Batch, u64::from(call.batch))),
            phone_number: Some(format!("+{}", call.phone)),
            user_tag_identifiers: self.tags_of(call),
            reply: self.reply_of(call, is_final),
        }
    }

    fn tags_of(&self, call: &CallRecord) -> Option<Map<String, Value>> {
        if call.tags.is_absent() {
            return None;
        }
        serde_json::from_str(self.text.get(call.tags)).ok()
    }

    /// The reply, shown once the call is final.
    fn reply_of(&self, call: &CallRecord, is_final: bool) -> Option<String> {
        (is_final && !call.reply.is_absent()).then(|| self.text.get(call.reply).to_owned())
    }

    fn call_index(&self, call_id: &str) -> Option<usize> {
        self.codec
            .decode(IdKind::Call, call_id)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < self.calls.len())
    }

    fn batch_index(&self, batch_id: &str) -> Option<usize> {
        self.codec
            .decode(IdKind::Batch, batch_id)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < self.batches.len())
    }

    /// `GET /voicebot/v1/status/{call_id}`.
    pub fn call_status(&self, call_id: &str, now_ms: u64) -> Result<CallStatus, ApiError> {
        let index = self
            .call_index(call_id)
            .ok_or_else(|| ApiError::not_found(format!("call '{call_id}' not found")))?;
        Ok(self.call_status_of(index, now_ms))
    }

    fn batch_of(&self, index: usize, now_ms: u64, with_calls: bool) -> Batch {
        let batch = &self.batches[index];
        let range = batch.first_call as usize..(batch.first_call + batch.call_count) as usize;
        let calls: Vec<CallStatus> = range.map(|i| self.call_status_of(i, now_ms)).collect();
        let counts = stats(&calls);
        let status = if counts.pending_calls == Some(0) {
            BatchStatus::Completed
        } else if calls
            .iter()
            .all(|c| c.processing_status == ProcessingStatus::Queued)
        {
            BatchStatus::Pending
        } else {
            BatchStatus::InProgress
        };
        Batch {
            batch_id: self.codec.encode(IdKind::Batch, index as u64),
            workflow_id: Some(self.targets[batch.target as usize].workflow_id.to_string()),
            status,
            created_at: Some(rfc3339(batch.created_ms)),
            stats: counts,
            request_calls: with_calls.then_some(calls),
        }
    }

    /// `GET /voicebot/v1/requests/{batch_id}`.
    pub fn batch(&self, batch_id: &str, now_ms: u64) -> Result<Batch, ApiError> {
        let index = self
            .batch_index(batch_id)
            .ok_or_else(|| ApiError::not_found(format!("request '{batch_id}' not found")))?;
        Ok(self.batch_of(index, now_ms, true))
    }

    /// `GET /voicebot/v1/workflows/{id}/requests`.
    pub fn workflow_batches(&self, workflow_id: &str, now_ms: u64) -> Result<BatchList, ApiError> {
        if self.workflow(workflow_id).is_none() {
            return Err(Self::workflow_not_found(workflow_id));
        }
        let requests = self
            .batches
            .iter()
            .enumerate()
            .filter(|(_, b)| &*self.targets[b.target as usize].workflow_id == workflow_id)
            .map(|(i, _)| self.batch_of(i, now_ms, false))
            .collect();
        Ok(BatchList { requests })
    }

    /// `POST /voicebot/v1/workflows`.
    pub fn create_workflow(&mut self, body: &Value, now_ms: u64) -> Result<Workflow, ApiError> {
        let fields = validate::workflow_fields(body, true)?;
        let stamp = rfc3339(now_ms);
        let mut workflow = Workflow {
            id: self
                .codec
                .encode(IdKind::Workflow, self.workflow_counter + 1),
            name: String::new(),
            description: None,
            workflow_type: WorkflowType::Robocall,
            message: String::new(),
            include_reply: false,
            response_options: std::collections::BTreeMap::new(),
            call_back_url: None,
            status: WorkflowStatus::Active,
            created_at: Some(stamp.clone()),
            updated_at: Some(stamp),
        };
        apply(&mut workflow, fields);
        validate::workflow_consistent(workflow.include_reply, &workflow.response_options)?;
        // The id is spent only once the workflow is made.
        self.workflow_counter += 1;
        let record = self.record(workflow.clone());
        self.workflows.push(record);
        Ok(workflow)
    }

    /// `GET /voicebot/v1/workflows?page=&limit=` (pages start at 1).
    pub fn list_workflows(&self, page: u64, limit: u64) -> WorkflowList {
        let page = page.max(1);
        let limit = limit.clamp(1, 1000);
        let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        WorkflowList {
            workflows: self
                .workflows
                .iter()
                .skip(skip)
                .take(take)
                .map(|w| w.workflow.clone())
                .collect(),
            page,
            limit,
            total: self.workflows.len() as u64,
        }
    }

    /// `GET /voicebot/v1/workflows/{id}`.
    pub fn get_workflow(&self, id: &str) -> Result<Workflow, ApiError> {
        self.workflow(id)
            .map(|w| w.workflow.clone())
            .ok_or_else(|| Self::workflow_not_found(id))
    }

    /// `PATCH /voicebot/v1/workflows/{id}`.
    pub fn patch_workflow(
        &mut self,
        id: &str,
        body: &Value,
        now_ms: u64,
    ) -> Result<Workflow, ApiError> {
        let fields = validate::workflow_fields(body, false)?;
        let index = self
            .workflows
            .iter()
            .position(|w| w.workflow.id == id)
            .ok_or_else(|| Self::workflow_not_found(id))?;
        let mut workflow = self.workflows[index].workflow.clone();
        apply(&mut workflow, fields);
        validate::workflow_consistent(workflow.include_reply, &workflow.response_options)?;
        workflow.updated_at = Some(rfc3339(now_ms));
        self.workflows[index] = self.record(workflow.clone());
        Ok(workflow)
    }

    /// `DELETE /voicebot/v1/workflows/{id}`. Its batches stay readable.
    pub fn delete_workflow(&mut self, id: &str) -> Result<(), ApiError> {
        let before = self.workflows.len();
        self.workflows.retain(|w| w.workflow.id != id);
        if self.workflows.len() == before {
            return Err(Self::workflow_not_found(id));
        }
        Ok(())
    }

    /// The earliest simulated time a waiting callback becomes due.
    pub fn next_callback_ms(&self) -> Option<u64> {
        self.pending_callbacks.first().map(|(at, _)| *at)
    }

    /// Takes the callbacks of batches that are final at `now_ms`.
    pub fn due_callbacks(&mut self, now_ms: u64) -> Vec<DueCallback> {
        let mut due = Vec::new();
        while let Some(&(at, index)) = self.pending_callbacks.first() {
            if at > now_ms {
                break;
            }
            self.pending_callbacks.pop_first();
            let batch = self.batch_of(index as usize, now_ms, true);
            let record = &mut self.batches[index as usize];
            record.callback = CallbackState::Sending;
            let Some(url) = self.targets[record.target as usize]
                .call_back_url
                .as_deref()
            else {
                continue;
            };
            due.push(DueCallback {
                epoch: self.epoch,
                batch: index,
                url: url.to_owned(),
                payload: CallbackPayload {
                    request_id: batch.batch_id,
                    status: BatchStatus::Completed.as_str().to_owned(),
                    integrator_id: Some(self.settings.integrator_id.clone()),
                    stats: if self.settings.documented_only {
                        batch.stats.documented()
                    } else {
                        batch.stats
                    },
                    request_calls: batch.request_calls.unwrap_or_default(),
                },
            });
        }
        due
    }

    /// Records how a callback delivery ended.
    pub fn callback_done(&mut self, epoch: u64, batch: u32, delivered: bool) {
        if epoch != self.epoch {
            return;
        }
        if let Some(record) = self.batches.get_mut(batch as usize) {
            record.callback = if delivered {
                CallbackState::Delivered
            } else {
                CallbackState::Failed
            };
        }
    }

    /// `GET /__mock/calls`: calls in placement order, from `offset`, at most `limit`.
    pub fn mock_calls(&self, offset: usize, limit: usize, now_ms: u64) -> Vec<MockCall> {
        (offset..self.calls.len().min(offset.saturating_add(limit)))
            .map(|index| {
                let call = &self.calls[index];
                let batch = &self.batches[call.batch as usize];
                let status = self.status_of(call, now_ms);
                let is_final = status.is_final();
                let target = &self.targets[batch.target as usize];
                let workflow_variables = serde_json::from_str(self.text.get(call.variables))
                    .unwrap_or_else(|_| Value::Object(Map::new()));
                let (message, message_truncated) =
                    validate::render(&target.message, &target.workflow_type, &workflow_variables);
                MockCall {
                    call_id: self.codec.encode(IdKind::Call, index as u64),
                    batch_id: self.codec.encode(IdKind::Batch, u64::from(call.batch)),
                    workflow_id: target.workflow_id.to_string(),
                    message,
                    message_truncated,
                    phone_number: format!("+{}", call.phone),
                    attempt: call.attempt,
                    workflow_variables,
                    user_tag_identifiers: self.tags_of(call).map_or(Value::Null, Value::Object),
                    processing_status: status,
                    outcome: call.outcome,
                    reply: self.reply_of(call, is_final),
                    call_duration_in_seconds: is_final.then_some(u64::from(call.duration_secs)),
                    created_at: rfc3339(batch.created_ms),
                    final_at: rfc3339(batch.created_ms + u64::from(call.final_ms)),
                }
            })
            .collect()
    }

    /// `(batch id, callback state)` for tests and `/__mock/` listings.
    pub fn callback_state(&self, batch_id: &str) -> Option<&'static str> {
        let index = self.batch_index(batch_id)?;
        Some(match self.batches[index].callback {
            CallbackState::None => "none",
            CallbackState::Waiting => "waiting",
            CallbackState::Sending => "sending",
            CallbackState::Delivered => "delivered",
            CallbackState::Failed => "failed",
        })
    }

    /// Simulated time at which the batch's last call is final.
    pub fn batch_final_ms(&self, batch_id: &str) -> Option<u64> {
        self.batch_index(batch_id).map(|i| self.batches[i].final_ms)
    }
}

/// The digits of a validated E.164 number.
fn phone_digits(phone: &str) -> u64 {
    phone.trim_start_matches('+').parse().unwrap_or(0)
}

fn apply(workflow: &mut Workflow, fields: WorkflowFields) {
    if let Some(name) = fields.name {
        workflow.name = name;
    }
    if let Some(description) = fields.description {
        workflow.description = description;
    }
    if let Some(kind) = fields.workflow_type {
        workflow.workflow_type = kind;
    }
    if let Some(message) = fields.message {
        workflow.message = message;
    }
    if let Some(include_reply) = fields.include_reply {
        workflow.include_reply = include_reply;
    }
    if let Some(options) = fields.response_options {
        workflow.response_options = options;
    }
    if let Some(url) = fields.call_back_url {
        workflow.call_back_url = url;
    }
    if let Some(status) = fields.status {
        workflow.status = status;
    }
}

/// Statistics of a batch's calls, as in the callback.
pub fn stats(calls: &[CallStatus]) -> BatchStats {
    let mut stats = BatchStats {
        total_calls: calls.len() as u64,
        ..BatchStats::default()
    };
    let (mut talk, mut failed, mut pending) = (0u64, 0u64, 0u64);
    let mut per_option = BTreeMap::new();
    for call in calls {
        match call.processing_status {
            ProcessingStatus::Processed => {
                stats.completed_calls += 1;
                talk += call.call_duration_in_seconds.unwrap_or(0);
            }
            ProcessingStatus::Failed => failed += 1,
            ProcessingStatus::Timeout => stats.timeout_calls += 1,
            _ => pending += 1,
        }
        if let Some(reply) = &call.reply {
            stats.replied_calls += 1;
            *per_option.entry(reply.clone()).or_insert(0) += 1;
        }
    }
    stats.response_options_counts = ResponseOptionsCounts::PerOption(per_option);
    stats.failed_calls = Some(failed);
    stats.pending_calls = Some(pending);
    // Counts stay far below 2^52; float conversion is exact.
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    {
        if stats.completed_calls > 0 {
            stats.avg_duration = talk as f64 / stats.completed_calls as f64;
        }
        if stats.total_calls > 0 {
            stats.success_rate = stats.completed_calls as f64 * 100.0 / stats.total_calls as f64;
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SEED_CONVERSATION_WORKFLOW, SEED_ROBOCALL_WORKFLOW};
    use serde_json::json;

    fn state(seed: u64) -> ReplicaState {
        let mut config = MockConfig {
            seed,
            ..MockConfig::default()
        };
        config.workflows[0].call_back_url = Some("http://127.0.0.1:9/cb".into());
        ReplicaState::new(ReplicaSettings::from(&config), 1_000_000)
    }

    fn body(phones: &[&str]) -> Value {
        let params: Vec<Value> = phones
            .iter()
            .map(|p| json!({"phone_number": p, "workflow_variables": {"name": "Ada"}, "user_tag_identifiers": {"customer_id": "C1"}}))
            .collect();
        json!({"workflow_id": SEED_ROBOCALL_WORKFLOW, "workflow_params": params})
    }

    #[test]
    fn lifecycle_reaches_final_state_and_callback_fires_once() {
        let mut s = state(1);
        let batch_id = s
            .place_calls(
                body(&["+2348000000001", "+2348000000002"]),
                CallKind::Robocall,
                1_000_000,
            )
            .unwrap();
        let batch = s.batch(&batch_id, 1_000_000).unwrap();
        assert_eq!(batch.status, BatchStatus::Pending);
        let calls = batch.request_calls.unwrap();
        assert_eq!(calls[0].processing_status, ProcessingStatus::Queued);
        assert_eq!(calls[0].call_duration_in_seconds, None);
        let final_ms = s.batch_final_ms(&batch_id).unwrap();
        assert!(s.due_callbacks(final_ms - 1).is_empty());
        let due = s.due_callbacks(final_ms);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].payload.request_id, batch_id);
        assert_eq!(due[0].payload.stats.total_calls, 2);
        assert_eq!(due[0].payload.stats.pending_calls, Some(0));
        assert!(s.due_callbacks(final_ms + 1).is_empty());
        let status = s.call_status(&calls[1].call_id, final_ms).unwrap();
        assert!(status.processing_status.is_final());
        assert!(status.call_duration_in_seconds.is_some());
        assert_eq!(
            s.batch(&batch_id, final_ms).unwrap().status,
            BatchStatus::Completed
        );
    }

    #[test]
    fn outcomes_depend_on_seed_phone_and_attempt_not_order() {
        let phones: Vec<String> = (0..40).map(|i| format!("+23480000{i:05}")).collect();
        let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
        let mut forward = state(5);
        forward
            .place_calls(body(&refs), CallKind::Robocall, 0)
            .unwrap();
        let mut backward = state(5);
        let reversed: Vec<&str> = refs.iter().rev().copied().collect();
        backward
            .place_calls(body(&reversed), CallKind::Robocall, 0)
            .unwrap();
        let outcome_of = |s: &ReplicaState| {
            let mut v: Vec<(String, Outcome, String)> = s
                .mock_calls(0, 1000, 0)
                .into_iter()
                .map(|c| (c.phone_number, c.outcome, c.final_at))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(outcome_of(&forward), outcome_of(&backward));
        let mut other_seed = state(6);
        other_seed
            .place_calls(body(&refs), CallKind::Robocall, 0)
            .unwrap();
        assert_ne!(outcome_of(&forward), outcome_of(&other_seed));
        // A second attempt to the same number is a fresh draw with attempt 2.
        forward
            .place_calls(body(&refs[..1]), CallKind::Robocall, 0)
            .unwrap();
        assert_eq!(forward.mock_calls(40, 1, 0)[0].attempt, 2);
    }

    #[test]
    fn workflow_checks() {
        let mut s = state(1);
        let mut b = body(&["+2348000000001"]);
        b["workflow_id"] = json!(SEED_CONVERSATION_WORKFLOW);
        assert_eq!(
            s.place_calls(b.clone(), CallKind::Robocall, 0)
                .unwrap_err()
                .status,
            409
        );
        b["workflow_id"] = json!("nope");
        assert_eq!(
            s.place_calls(b.clone(), CallKind::Robocall, 0)
                .unwrap_err()
                .status,
            404
        );
        s.patch_workflow(SEED_ROBOCALL_WORKFLOW, &json!({"status": "INACTIVE"}), 0)
            .unwrap();
        b["workflow_id"] = json!(SEED_ROBOCALL_WORKFLOW);
        assert_eq!(
            s.place_calls(b.clone(), CallKind::Robocall, 0)
                .unwrap_err()
                .status,
            409
        );
        let created = s
            .create_workflow(
                &json!({"name": "n", "message": "Hi {{name}}", "workflow_type": "CONVERSATION"}),
                0,
            )
            .unwrap();
        let convo = json!({"workflow_id": created.id, "workflow_params": [{"phone_number": "+2348000000001"}]});
        let err = s.place_calls(convo, CallKind::Conversation, 0).unwrap_err();
        assert_eq!(
            err.message,
            "workflow_params[0].name is required: the workflow message uses the placeholder {{name}}"
        );
        s.delete_workflow(&created.id).unwrap();
        assert_eq!(s.get_workflow(&created.id).unwrap_err().status, 404);
    }

    /// Guards the per-call memory budget (about 300 bytes per call at most).
    #[test]
    fn records_stay_small() {
        assert!(
            std::mem::size_of::<CallRecord>() <= 72,
            "{}",
            std::mem::size_of::<CallRecord>()
        );
        assert!(
            std::mem::size_of::<BatchRecord>() <= 32,
            "{}",
            std::mem::size_of::<BatchRecord>()
        );
    }

    #[test]
    fn reset_forgets_ids() {
        let mut s = state(1);
        let batch_id = s
            .place_calls(body(&["+2348000000001"]), CallKind::Robocall, 0)
            .unwrap();
        s.reset(0);
        assert_eq!(s.batch(&batch_id, 0).unwrap_err().status, 404);
        assert_eq!(s.call_count(), 0);
    }
}

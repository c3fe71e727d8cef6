//! The workflows the documented samples rely on. The mock starts with them; `outreach init`
//! writes a campaign that names one, so that a new user can plan and apply on the mock at once.

use std::collections::BTreeMap;

use crate::wire::{Workflow, WorkflowStatus, WorkflowType};

/// Id of the seeded ROBOCALL workflow used by the documented samples.
pub const SEED_ROBOCALL_WORKFLOW: &str = "9b643eb4-0799-4761-bd34-9580eb315aaf";
/// Id of the seeded CONVERSATION workflow.
pub const SEED_CONVERSATION_WORKFLOW: &str = "550e8400-e29b-41d4-a716-446655440000";

/// The two workflows the documented samples rely on.
pub fn seeded_workflows() -> Vec<Workflow> {
    vec![
        Workflow {
            id: SEED_ROBOCALL_WORKFLOW.to_owned(),
            name: "Clinic reminder".to_owned(),
            description: Some("Seeded ROBOCALL workflow used by the documented samples".to_owned()),
            workflow_type: WorkflowType::Robocall,
            message: "Hello [name], this is a reminder from your clinic.".to_owned(),
            include_reply: false,
            response_options: BTreeMap::new(),
            call_back_url: None,
            status: WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        },
        Workflow {
            id: SEED_CONVERSATION_WORKFLOW.to_owned(),
            name: "Clinic conversation".to_owned(),
            description: Some("Seeded CONVERSATION workflow".to_owned()),
            workflow_type: WorkflowType::Conversation,
            message: "Hello {{name}}, this is your clinic. Can you come to your appointment?"
                .to_owned(),
            include_reply: true,
            response_options: BTreeMap::from([
                ("1".to_owned(), "Yes".to_owned()),
                ("2".to_owned(), "No".to_owned()),
            ]),
            call_back_url: None,
            status: WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        },
    ]
}

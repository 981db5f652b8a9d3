//! The post-incident review routes: a review and its sections, the 5-whys, stars on
//! the timeline, the status, the exports, and action items.

use klaxon_domain::review::api::{
    ActionQuery, NoteInput, ReviewSettings, StatusRequest, WhysInput,
};
use klaxon_domain::review::{
    ActionItemPatch, ActionItemRef, Impact, Lessons, ListedAction, Meeting, NewActionItem,
    OpenReview, ReviewStatus, ReviewView, RootCauseInput, Summary, WhyNode, WhyNodeInput,
};
use klaxon_domain::IncidentNumber;
use reqwest::Method;

use crate::{Client, ClientError};

fn review(n: IncidentNumber, rest: &str) -> String {
    format!("/incidents/{}/review{rest}", n.0)
}

impl Client {
    pub async fn review(&self, n: IncidentNumber) -> Result<ReviewView, ClientError> {
        self.get(&review(n, "")).await
    }

    /// Opens the review of an incident by hand.
    pub async fn open_review(
        &self,
        n: IncidentNumber,
        body: &OpenReview,
    ) -> Result<ReviewView, ClientError> {
        self.post(&review(n, ""), body).await
    }

    /// Sets a review's owner or deadline.
    pub async fn review_settings(
        &self,
        n: IncidentNumber,
        body: &ReviewSettings,
    ) -> Result<ReviewView, ClientError> {
        let path = review(n, "");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }

    pub async fn review_summary(
        &self,
        n: IncidentNumber,
        body: &Summary,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/summary"), body).await
    }

    pub async fn review_impact(
        &self,
        n: IncidentNumber,
        body: &Impact,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/impact"), body).await
    }

    pub async fn review_root_cause(
        &self,
        n: IncidentNumber,
        body: &RootCauseInput,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/root-cause"), body).await
    }

    pub async fn review_lessons(
        &self,
        n: IncidentNumber,
        body: &Lessons,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/lessons"), body).await
    }

    pub async fn review_meeting(
        &self,
        n: IncidentNumber,
        body: &Meeting,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/meeting"), body).await
    }

    /// Replaces the 5-whys whole.
    pub async fn set_whys(
        &self,
        n: IncidentNumber,
        nodes: Vec<WhyNode>,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, "/whys"), &WhysInput { nodes }).await
    }

    /// Adds a 5-whys node (after another, or starting a chain).
    pub async fn add_why(
        &self,
        n: IncidentNumber,
        body: &WhyNodeInput,
    ) -> Result<ReviewView, ClientError> {
        self.post(&review(n, "/whys/nodes"), body).await
    }

    /// Stars timeline event `seq` (or not), with context.
    pub async fn note_event(
        &self,
        n: IncidentNumber,
        seq: i64,
        body: &NoteInput,
    ) -> Result<ReviewView, ClientError> {
        self.put(&review(n, &format!("/timeline/{seq}")), body)
            .await
    }

    pub async fn set_review_status(
        &self,
        n: IncidentNumber,
        status: ReviewStatus,
    ) -> Result<ReviewView, ClientError> {
        self.post(&review(n, "/status"), &StatusRequest { status })
            .await
    }

    /// The review exported as `markdown`, `html` or `json`, as text.
    pub async fn export_review(
        &self,
        n: IncidentNumber,
        format: &str,
    ) -> Result<String, ClientError> {
        self.get_text(&review(n, &format!("/export?format={format}")))
            .await
    }

    pub async fn add_action(
        &self,
        n: IncidentNumber,
        body: &NewActionItem,
    ) -> Result<ListedAction, ClientError> {
        self.post(&review(n, "/actions"), body).await
    }

    /// Action items across incidents, by deadline.
    pub async fn actions(&self, query: &ActionQuery) -> Result<Vec<ListedAction>, ClientError> {
        let request = self.request(Method::GET, "/actions").query(query);
        self.send(request, "/actions").await
    }

    pub async fn action(&self, item: ActionItemRef) -> Result<ListedAction, ClientError> {
        self.get(&format!("/actions/{item}")).await
    }

    pub async fn update_action(
        &self,
        item: ActionItemRef,
        body: &ActionItemPatch,
    ) -> Result<ListedAction, ClientError> {
        let path = format!("/actions/{item}");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }
}

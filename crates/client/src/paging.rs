//! The paging routes: contact methods, notification rules, schedules, escalation
//! policies, who is on call, direct pages.

use jiff::Timestamp;
use klaxon_domain::paging::api::{
    CodeSent, NewPage, OnCall, Paged, ServiceOnCall, Subscription, VerifyCode,
};
use klaxon_domain::paging::{
    ContactMethod, EscalationPolicy, NewContactMethod, NewEscalationPolicy, NewNotificationRule,
    NotificationRule,
};
use klaxon_domain::schedule::{NewSchedule, Schedule, Shift};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};

use crate::{Client, ClientError};

/// A path segment with `/`, `?`, `#`, `%` and spaces escaped (schedule names may hold them).
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Client {
    pub async fn contact_methods(&self, user: &Handle) -> Result<Vec<ContactMethod>, ClientError> {
        self.get(&format!("/users/{user}/contact-methods")).await
    }

    pub async fn add_contact_method(
        &self,
        user: &Handle,
        body: &NewContactMethod,
    ) -> Result<ContactMethod, ClientError> {
        self.post(&format!("/users/{user}/contact-methods"), body)
            .await
    }

    pub async fn remove_contact_method(
        &self,
        user: &Handle,
        id: ContactMethodId,
    ) -> Result<(), ClientError> {
        self.delete(&format!("/users/{user}/contact-methods/{id}"))
            .await
    }

    /// Sends a code to an SMS or voice contact method, to verify the number.
    pub async fn send_code(
        &self,
        user: &Handle,
        id: ContactMethodId,
    ) -> Result<CodeSent, ClientError> {
        let path = format!("/users/{user}/contact-methods/{id}/code");
        self.post(&path, &serde_json::json!({})).await
    }

    /// Gives back the code sent to a number; the method, verified.
    pub async fn verify_code(
        &self,
        user: &Handle,
        id: ContactMethodId,
        code: &str,
    ) -> Result<ContactMethod, ClientError> {
        let path = format!("/users/{user}/contact-methods/{id}/verify");
        self.post(&path, &VerifyCode { code: code.into() }).await
    }

    /// Queues a test message to a contact method; an e-mail, Slack or webhook method is
    /// verified once it is delivered.
    pub async fn test_contact_method(
        &self,
        user: &Handle,
        id: ContactMethodId,
    ) -> Result<(), ClientError> {
        let path = format!("/users/{user}/contact-methods/{id}/test");
        self.post::<_, serde_json::Value>(&path, &serde_json::json!({}))
            .await
            .map(|_| ())
    }

    pub async fn notification_rules(
        &self,
        user: &Handle,
    ) -> Result<Vec<NotificationRule>, ClientError> {
        self.get(&format!("/users/{user}/notification-rules")).await
    }

    pub async fn add_notification_rule(
        &self,
        user: &Handle,
        body: &NewNotificationRule,
    ) -> Result<NotificationRule, ClientError> {
        self.post(&format!("/users/{user}/notification-rules"), body)
            .await
    }

    pub async fn remove_notification_rule(
        &self,
        user: &Handle,
        id: NotificationRuleId,
    ) -> Result<(), ClientError> {
        self.delete(&format!("/users/{user}/notification-rules/{id}"))
            .await
    }

    pub async fn schedules(&self) -> Result<Vec<Schedule>, ClientError> {
        self.get("/schedules").await
    }

    pub async fn create_schedule(&self, body: &NewSchedule) -> Result<Schedule, ClientError> {
        self.post("/schedules", body).await
    }

    pub async fn schedule(&self, name: &str) -> Result<Schedule, ClientError> {
        self.get(&format!("/schedules/{}", segment(name))).await
    }

    pub async fn replace_schedule(
        &self,
        name: &str,
        body: &NewSchedule,
    ) -> Result<Schedule, ClientError> {
        self.put(&format!("/schedules/{}", segment(name)), body)
            .await
    }

    pub async fn delete_schedule(&self, name: &str) -> Result<(), ClientError> {
        self.delete(&format!("/schedules/{}", segment(name))).await
    }

    pub async fn shifts(
        &self,
        name: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<Shift>, ClientError> {
        let mut path = format!("/schedules/{}/shifts?", segment(name));
        if let Some(from) = from {
            path.push_str(&format!("from={}&", segment(&from.to_string())));
        }
        if let Some(to) = to {
            path.push_str(&format!("to={}", segment(&to.to_string())));
        }
        self.get(path.trim_end_matches(['?', '&'])).await
    }

    pub async fn schedule_on_call(&self, name: &str) -> Result<OnCall, ClientError> {
        self.get(&format!("/schedules/{}/oncall", segment(name)))
            .await
    }

    pub async fn schedule_calendar(&self, name: &str) -> Result<String, ClientError> {
        self.get_text(&format!("/schedules/{}/calendar.ics", segment(name)))
            .await
    }

    pub async fn user_calendar(&self, user: &Handle) -> Result<String, ClientError> {
        self.get_text(&format!("/users/{user}/calendar.ics")).await
    }

    pub async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>, ClientError> {
        self.get("/escalation-policies").await
    }

    pub async fn create_escalation_policy(
        &self,
        body: &NewEscalationPolicy,
    ) -> Result<EscalationPolicy, ClientError> {
        self.post("/escalation-policies", body).await
    }

    pub async fn escalation_policy(&self, name: &str) -> Result<EscalationPolicy, ClientError> {
        self.get(&format!("/escalation-policies/{}", segment(name)))
            .await
    }

    pub async fn replace_escalation_policy(
        &self,
        name: &str,
        body: &NewEscalationPolicy,
    ) -> Result<EscalationPolicy, ClientError> {
        self.put(&format!("/escalation-policies/{}", segment(name)), body)
            .await
    }

    pub async fn delete_escalation_policy(&self, name: &str) -> Result<(), ClientError> {
        self.delete(&format!("/escalation-policies/{}", segment(name)))
            .await
    }

    pub async fn on_call(&self) -> Result<Vec<ServiceOnCall>, ClientError> {
        self.get("/oncall").await
    }

    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, ClientError> {
        self.get("/subscriptions").await
    }

    pub async fn subscribe(&self, body: &Subscription) -> Result<Subscription, ClientError> {
        self.post("/subscriptions", body).await
    }

    pub async fn unsubscribe(&self, team: &str, user: &Handle) -> Result<(), ClientError> {
        self.delete(&format!("/subscriptions/{}/{user}", segment(team)))
            .await
    }

    pub async fn page(&self, body: &NewPage) -> Result<Paged, ClientError> {
        self.post("/page", body).await
    }
}

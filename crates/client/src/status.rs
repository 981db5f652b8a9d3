//! Status-page components, and the components an incident affects.

use klaxon_domain::incident::IncidentView;
use klaxon_domain::status::{Component, ComponentUpdate, ComponentsRequest, NewComponent};
use klaxon_domain::{ComponentId, IncidentNumber};
use reqwest::Method;

use crate::{Client, ClientError};

impl Client {
    /// Every component and group, in page order, with its status now.
    pub async fn components(&self) -> Result<Vec<Component>, ClientError> {
        self.get("/components").await
    }

    pub async fn component(&self, id: ComponentId) -> Result<Component, ClientError> {
        self.get(&format!("/components/{id}")).await
    }

    pub async fn create_component(&self, body: &NewComponent) -> Result<Component, ClientError> {
        self.post("/components", body).await
    }

    pub async fn update_component(
        &self,
        id: ComponentId,
        body: &ComponentUpdate,
    ) -> Result<Component, ClientError> {
        let path = format!("/components/{id}");
        self.send(self.request(Method::PATCH, &path).json(body), &path)
            .await
    }

    pub async fn delete_component(&self, id: ComponentId) -> Result<(), ClientError> {
        self.delete(&format!("/components/{id}")).await
    }

    /// Names the components incident `n` affects, replacing those named before.
    pub async fn set_incident_components(
        &self,
        n: IncidentNumber,
        body: &ComponentsRequest,
    ) -> Result<IncidentView, ClientError> {
        self.post(&format!("/incidents/{}/components", n.0), body)
            .await
    }
}

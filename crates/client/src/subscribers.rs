//! Status-page subscribers (admins).

use klaxon_domain::status::{AddedSubscriber, NewSubscriber, Subscriber};
use klaxon_domain::SubscriberId;

use crate::{Client, ClientError};

impl Client {
    /// Every subscriber, confirmed or not, by id.
    pub async fn subscribers(&self) -> Result<Vec<Subscriber>, ClientError> {
        self.get("/subscribers").await
    }

    /// Adds a subscriber; a webhook's signing secret is in the answer, this once.
    pub async fn add_subscriber(
        &self,
        body: &NewSubscriber,
    ) -> Result<AddedSubscriber, ClientError> {
        self.post("/subscribers", body).await
    }

    pub async fn remove_subscriber(&self, id: SubscriberId) -> Result<(), ClientError> {
        self.delete(&format!("/subscribers/{id}")).await
    }
}

//! Inbound hooks: services that call Klaxon back (Twilio's voice and SMS callbacks).
//! Slack, Linear and GitHub webhooks will live here too.

pub(crate) mod twilio;

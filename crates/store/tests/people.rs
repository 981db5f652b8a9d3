//! The store contract for people: users' roles, contact methods, the codes that verify
//! phone numbers and who holds each verified number, and the contact method a page's
//! links went to. The same tests on SQLite and PostgreSQL (see `contract.rs`).

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::verify::SentCode;
use klaxon_domain::paging::{ContactKind, NewContactMethod};
use klaxon_domain::{ContactMethodId, Handle};
use klaxon_store::{Store, StoreError};

fn now() -> Timestamp {
    klaxon_domain::time::to_millis_precision(Timestamp::now())
}

fn handle(s: &str) -> Handle {
    Handle::parse(s).unwrap()
}

async fn user(store: &Arc<dyn Store>, h: &str, role: Option<Scope>) {
    let new = NewUser {
        handle: handle(h),
        name: h.to_uppercase(),
        email: format!("{h}@example.com"),
        role,
    };
    store.create_user(&new, now()).await.unwrap();
}

async fn phone(
    store: &Arc<dyn Store>,
    h: &str,
    kind: ContactKind,
    number: &str,
) -> ContactMethodId {
    let method = NewContactMethod {
        kind,
        address: number.into(),
        label: None,
    };
    store
        .add_contact_method(&handle(h), &method, now())
        .await
        .unwrap()
        .id
}

async fn users_have_roles(store: Arc<dyn Store>) {
    user(&store, "alice", None).await;
    user(&store, "victor", Some(Scope::Viewer)).await;
    assert_eq!(
        store.user(&handle("alice")).await.unwrap().role,
        Scope::Responder,
        "responder unless told"
    );
    assert_eq!(
        store.user(&handle("victor")).await.unwrap().role,
        Scope::Viewer
    );
    store
        .create_token("laptop", Scope::Responder, &handle("alice"), "h", now())
        .await
        .unwrap();
    let raised = store
        .set_role(&handle("alice"), Scope::Admin)
        .await
        .unwrap();
    assert_eq!(raised.role, Scope::Admin);
    let auth = store.authenticate("h").await.unwrap().unwrap();
    assert_eq!(
        (auth.user.role, auth.token.scope),
        (Scope::Admin, Scope::Responder)
    );
    let roles: Vec<_> = store
        .users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.role)
        .collect();
    assert_eq!(roles, [Scope::Admin, Scope::Viewer]);
    assert!(matches!(
        store.set_role(&handle("nobody"), Scope::Admin).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn the_first_user_is_admin(store: Arc<dyn Store>) {
    let new = NewUser {
        handle: handle("admin"),
        name: "Administrator".into(),
        email: "admin@localhost".into(),
        role: None,
    };
    let admin = store
        .bootstrap(&new, "bootstrap", "h", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.role, Scope::Admin);
    let bootstrap = store.authenticate("h").await.unwrap().unwrap();
    assert_eq!(bootstrap.user.role, Scope::Admin);
    // An admin-scope token of a responder does not act as admin, so it does not count
    // as another admin token: the bootstrap token stays the last one.
    user(&store, "alice", None).await;
    let alices = store
        .create_token("old", Scope::Admin, &handle("alice"), "h2", now())
        .await
        .unwrap();
    assert!(matches!(
        store.revoke_token(bootstrap.token.id, now()).await,
        Err(StoreError::Refused(_))
    ));
    store.revoke_token(alices.id, now()).await.unwrap();
    store
        .set_role(&handle("alice"), Scope::Admin)
        .await
        .unwrap();
    store
        .create_token("new", Scope::Admin, &handle("alice"), "h3", now())
        .await
        .unwrap();
    store.revoke_token(bootstrap.token.id, now()).await.unwrap();
}

async fn one_code_is_pending_per_method(store: Arc<dyn Store>) {
    user(&store, "alice", None).await;
    let id = phone(&store, "alice", ContactKind::Sms, "+15551110001").await;
    let t0 = now();
    assert_eq!(store.try_contact_code(id).await.unwrap(), None);
    let first = SentCode::new("first".into(), t0);
    assert_eq!(store.save_contact_code(id, &first, t0).await.unwrap(), None);
    // A second code within the minute is refused, and the first one is kept.
    let early = SentCode::new("early".into(), t0 + SignedDuration::from_secs(30));
    let blocking = store
        .save_contact_code(id, &early, t0 - SignedDuration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(blocking, Some(first.clone()));
    // Each try counts.
    let tried = store.try_contact_code(id).await.unwrap().unwrap();
    assert_eq!((tried.hash.as_str(), tried.tries), ("first", 1));
    assert_eq!(store.try_contact_code(id).await.unwrap().unwrap().tries, 2);
    // A later code replaces it, tries and all.
    let later = SentCode::new("later".into(), t0 + SignedDuration::from_mins(1));
    assert_eq!(store.save_contact_code(id, &later, t0).await.unwrap(), None);
    let tried = store.try_contact_code(id).await.unwrap().unwrap();
    assert_eq!((tried.hash.as_str(), tried.tries), ("later", 1));
    store.drop_contact_code(id).await.unwrap();
    assert_eq!(store.try_contact_code(id).await.unwrap(), None);
    assert!(matches!(
        store
            .save_contact_code(ContactMethodId(9999), &first, t0)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_number_is_verified_by_one_user_only(store: Arc<dyn Store>) {
    user(&store, "alice", None).await;
    user(&store, "bob", None).await;
    let number = "+15551110001";
    let alice_sms = phone(&store, "alice", ContactKind::Sms, number).await;
    let alice_voice = phone(&store, "alice", ContactKind::Voice, number).await;
    let bob_sms = phone(&store, "bob", ContactKind::Sms, number).await;
    assert_eq!(store.number_verified_by(number).await.unwrap(), None);
    // Without a verified method, a reply's number finds the oldest method.
    let found = store
        .contact_method_by_address(ContactKind::Sms, number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.verified), (alice_sms, false));

    store
        .save_contact_code(bob_sms, &SentCode::new("c".into(), now()), now())
        .await
        .unwrap();
    let at = now();
    let verified = store.verify_number(bob_sms, at).await.unwrap();
    assert!(verified.verified && verified.verified_at == Some(at));
    assert_eq!(
        store.try_contact_code(bob_sms).await.unwrap(),
        None,
        "used up"
    );
    assert_eq!(
        store.number_verified_by(number).await.unwrap(),
        Some(handle("bob"))
    );
    let found = store
        .contact_method_by_address(ContactKind::Sms, number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, bob_sms, "the verified method, not the older one");

    // Alice cannot verify the number, by SMS or by voice, and nothing of hers changes.
    for id in [alice_sms, alice_voice] {
        let refused = store.verify_number(id, now()).await.unwrap_err();
        assert!(
            matches!(
                refused,
                StoreError::Duplicate {
                    field: "number",
                    ..
                }
            ),
            "{refused}"
        );
        assert!(!store.contact_method(id).await.unwrap().verified);
    }

    // Bob removes it: the number is free, and alice verifies both her methods.
    store
        .remove_contact_method(&handle("bob"), bob_sms)
        .await
        .unwrap();
    assert_eq!(store.number_verified_by(number).await.unwrap(), None);
    store.verify_number(alice_sms, now()).await.unwrap();
    store.verify_number(alice_voice, now()).await.unwrap();
    // Removing one of two methods with the number keeps it hers.
    store
        .remove_contact_method(&handle("alice"), alice_sms)
        .await
        .unwrap();
    assert_eq!(
        store.number_verified_by(number).await.unwrap(),
        Some(handle("alice"))
    );
    store
        .remove_contact_method(&handle("alice"), alice_voice)
        .await
        .unwrap();
    assert_eq!(store.number_verified_by(number).await.unwrap(), None);
}

async fn concurrent_claims_of_a_number_verify_one(store: Arc<dyn Store>) {
    let number = "+15559990009";
    let mut ids = vec![];
    for h in ["u1", "u2", "u3", "u4"] {
        user(&store, h, None).await;
        ids.push(phone(&store, h, ContactKind::Voice, number).await);
    }
    let claims = ids.iter().map(|id| {
        let store = store.clone();
        let id = *id;
        tokio::spawn(async move { store.verify_number(id, now()).await })
    });
    let results = futures_join(claims).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(StoreError::Duplicate { .. }))));
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = vec![];
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

async fn a_test_message_does_not_verify_a_number(store: Arc<dyn Store>) {
    user(&store, "alice", None).await;
    let sms = phone(&store, "alice", ContactKind::Sms, "+15551110001").await;
    let email = store
        .add_contact_method(
            &handle("alice"),
            &NewContactMethod {
                kind: ContactKind::Email,
                address: "alice@example.com".into(),
                label: None,
            },
            now(),
        )
        .await
        .unwrap()
        .id;
    store.mark_contact_verified(sms, now()).await.unwrap();
    store.mark_contact_verified(email, now()).await.unwrap();
    assert!(!store.contact_method(sms).await.unwrap().verified);
    assert!(store.contact_method(email).await.unwrap().verified);
    assert!(matches!(
        store.verify_number(email, now()).await,
        Err(StoreError::NotFound(_))
    ));
}

contract!(
    users_have_roles,
    the_first_user_is_admin,
    one_code_is_pending_per_method,
    a_number_is_verified_by_one_user_only,
    concurrent_claims_of_a_number_verify_one,
    a_test_message_does_not_verify_a_number
);

// Runs against the reference server (or an axum test server): needs the `server` feature.
#![cfg(feature = "server")]
//! Recovery codes: made once, shown once, each good for one sign-in.

mod server_support;

use secinfo::protocol::*;
use server_support::World;

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_a_new_set_replaces_the_old() {
    let w = World::default().await;
    let t = w.alice_signs_in("laptop", false).await;
    let none: RecoveryCodesStatus = w.get("/v1/me/recovery-codes", &t.access_token).await.ok();
    assert_eq!((none.remaining, none.total), (0, 0));
    let ch = w.alice_challenge("x").await;
    assert!(
        ch.methods.iter().all(|m| m.kind != "recovery_codes"),
        "not offered without codes"
    );

    let set: RecoveryCodes = w
        .post("/v1/me/recovery-codes", (), Some(&t.access_token))
        .await
        .ok();
    assert_eq!(set.codes.len(), 10);
    let status: RecoveryCodesStatus = w.get("/v1/me/recovery-codes", &t.access_token).await.ok();
    assert_eq!((status.remaining, status.total), (10, 10));

    let ch = w.alice_challenge("lost-phone").await;
    let rc = World::method(&ch, "recovery_codes");
    assert_eq!(rc.label, "Use a recovery code (10 left)");
    let id = rc.method_id.clone();
    let typed = set.codes[3].to_uppercase();
    let r: AuthResult = w.answer(&ch, &id, Some(&typed), false, None).await.ok();
    assert!(matches!(r, AuthResult::SignedIn(_)), "{r:?}");
    let again = w.alice_challenge("lost-phone").await;
    let reuse = w
        .answer(&again, &id, Some(&set.codes[3]), false, None)
        .await;
    assert_eq!(reuse.code(), codes::INVALID_CODE);
    assert!(
        w.notices("alice@contoso.test")
            .iter()
            .any(|n| n.contains("recovery code was used"))
    );
    let status: RecoveryCodesStatus = w.get("/v1/me/recovery-codes", &t.access_token).await.ok();
    assert_eq!(status.remaining, 9);

    // A fresh set: the old codes stop working.
    let fresh: RecoveryCodes = w
        .post("/v1/me/recovery-codes", (), Some(&t.access_token))
        .await
        .ok();
    let ch = w.alice_challenge("lost-phone").await;
    assert_eq!(
        w.answer(&ch, &id, Some(&set.codes[0]), false, None)
            .await
            .code(),
        codes::INVALID_CODE
    );
    assert!(matches!(
        w.answer(&ch, &id, Some(&fresh.codes[0]), false, None)
            .await
            .ok(),
        AuthResult::SignedIn(_)
    ));

    // They are never a usable method: the last-method guard ignores them.
    assert!(
        w.methods(&t.access_token)
            .await
            .iter()
            .all(|m| m.kind != "recovery_codes")
    );
    assert_eq!(
        w.delete("/v1/me/recovery-codes", &t.access_token)
            .await
            .status,
        204
    );
    let gone: RecoveryCodesStatus = w.get("/v1/me/recovery-codes", &t.access_token).await.ok();
    assert_eq!(gone.total, 0);
}

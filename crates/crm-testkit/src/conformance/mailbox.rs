//! Conformance: the poll positions of mailboxes (CAS-8): kept per tenant and account, never
//! moved back under the same UIDVALIDITY, replaced whole under a new one.

use crm_core::ports::MailboxPosition;

use super::{Ctx, StoreFactory};

fn at(uid_validity: u32, last_uid: u32) -> MailboxPosition {
    MailboxPosition { uid_validity, last_uid }
}

/// A position round-trips per tenant and account: none before the first save, another
/// account or another tenant's account of the same name is another position, and the
/// largest UIDs and UIDVALIDITYs fit.
pub async fn mailbox_positions_round_trip_per_tenant_and_account(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let other = ctx.sibling().await;
    let account = "support@imap.example.com/INBOX";
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), None);
    s.save_mailbox_position(tenant, account, at(7, 3), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(7, 3)));
    assert_eq!(s.mailbox_position(other.tenant(), account).await.unwrap(), None, "tenant-confined");
    assert_eq!(s.mailbox_position(tenant, "support@imap.example.com/Archive").await.unwrap(), None);
    s.save_mailbox_position(other.tenant(), account, at(9, 1), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(7, 3)), "untouched by the other");
    s.save_mailbox_position(tenant, account, at(7, 4), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(7, 4)));
    s.save_mailbox_position(tenant, "max", at(u32::MAX, u32::MAX), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, "max").await.unwrap(), Some(at(u32::MAX, u32::MAX)));
}

/// Under the same UIDVALIDITY a lower UID never replaces a higher one (a slower poller of
/// the same mailbox); a new UIDVALIDITY replaces the position whole, even with a lower UID.
pub async fn a_mailbox_position_never_moves_back_within_one_uid_validity(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let account = "support@imap.example.com/INBOX";
    s.save_mailbox_position(tenant, account, at(7, 10), ctx.now).await.unwrap();
    s.save_mailbox_position(tenant, account, at(7, 4), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(7, 10)), "not moved back");
    s.save_mailbox_position(tenant, account, at(8, 0), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(8, 0)), "a new UIDVALIDITY restarts");
    s.save_mailbox_position(tenant, account, at(8, 2), ctx.now).await.unwrap();
    s.save_mailbox_position(tenant, account, at(3, 1), ctx.now).await.unwrap();
    assert_eq!(s.mailbox_position(tenant, account).await.unwrap(), Some(at(3, 1)), "any other UIDVALIDITY too");
}

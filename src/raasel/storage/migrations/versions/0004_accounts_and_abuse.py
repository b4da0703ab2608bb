"""accounts that prove their address, invitations, the mail outbox, attachment visibility,
verified domains, conversations that follow a closed one

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 00:00:00

Existing accounts stay unverified (null ``email_verified_at``) until their holder resets
the password or accepts an invitation by mail. Existing attachments are marked attached
(visible as before: to the conversation's participants) when a stored message names them;
the others stay visible to their uploader only. Existing claimed domains are unverified.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified_at", _TS, nullable=True))
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column("verified_domains", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("organizations") as batch:
        batch.alter_column("verified_domains", server_default=None)
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("follows_id", _ID, nullable=True))
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("is_note", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("attached_at", _TS, nullable=True))
        batch.create_index("ix_attachments_org", ["org_id"], unique=False)
        batch.create_index("ix_attachments_uploader", ["uploader_id"], unique=False)
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("is_note", server_default=None)
    # Attachments already carried by a message keep their audience (notes: the
    # organization's side only).
    op.execute(
        "UPDATE attachments SET"
        " message_id = (SELECT m.id FROM messages m WHERE m.attachment_id = attachments.id"
        "   ORDER BY m.position LIMIT 1),"
        " is_note = COALESCE((SELECT m.kind = 'note' FROM messages m"
        "   WHERE m.attachment_id = attachments.id ORDER BY m.position LIMIT 1), false),"
        " attached_at = created_at"
        " WHERE EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = attachments.id)"
    )

    op.create_table(
        "email_tokens",
        sa.Column("id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_email_tokens_email", "email_tokens", ["email", "purpose"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("invited_by", _ID, nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("accepted_at", _TS, nullable=True),
        sa.Column("accepted_by", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invitations_org", "invitations", ["org_id", "status"], unique=False)
    op.create_index("ix_invitations_email", "invitations", ["email"], unique=False)

    op.create_table(
        "mail_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"], unique=False
    )

    op.create_table(
        "domain_claims",
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("verified_at", _TS, nullable=True),
        sa.Column("checked_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("org_id", "domain"),
    )


def downgrade() -> None:
    op.drop_table("domain_claims")
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_invitations_email", table_name="invitations")
    op.drop_index("ix_invitations_org", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_email_tokens_email", table_name="email_tokens")
    op.drop_table("email_tokens")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_uploader")
        batch.drop_index("ix_attachments_org")
        batch.drop_column("attached_at")
        batch.drop_column("is_note")
        batch.drop_column("message_id")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("follows_id")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("verified_domains")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")

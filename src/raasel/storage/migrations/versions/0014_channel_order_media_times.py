"""social channels, second part: the contacts each queued webhook carries messages of (one
delivery per contact in flight, across nodes), the provider's own time of each inbound
message, and the second provider id of a reply sent as two platform messages (a file
and its text)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00

docs/channels.md, "Several nodes", "Files agents send" and "Times".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage.schema import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_webhooks") as batch:
        batch.add_column(sa.Column("contact_keys", sa.Text(), nullable=True))
    with op.batch_alter_table("channel_inbound") as batch:
        batch.add_column(sa.Column("provider_sent_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("channel_outbound") as batch:
        batch.add_column(sa.Column("provider_extra_id", sa.String(255), nullable=True))
    op.create_index(
        "ix_channel_outbound_extra", "channel_outbound", ["channel_id", "provider_extra_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_channel_outbound_extra", table_name="channel_outbound")
    with op.batch_alter_table("channel_outbound") as batch:
        batch.drop_column("provider_extra_id")
    with op.batch_alter_table("channel_inbound") as batch:
        batch.drop_column("provider_sent_at")
    with op.batch_alter_table("channel_webhooks") as batch:
        batch.drop_column("contact_keys")

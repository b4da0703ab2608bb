"""Backups on SQLite and PostgreSQL, organization exports on every message store: what
they hold, that a restore or import gives the same data back, and what they refuse."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from raasel.actions import team_room_messages, team_rooms
from raasel.actions.context import Services
from raasel.app import build_services
from raasel.backup.manifest import BackupError
from raasel.backup.node_backup import create_backup, read_manifest, restore_backup
from raasel.backup.org_export import export_org
from raasel.backup.org_format import NOT_EXPORTED, TABLES
from raasel.backup.org_import import import_org
from raasel.config import Settings
from raasel.storage import schema
from raasel.storage.tenancy import CrossTenant
from tests.backup.conftest import PNG, History, seed_history, stack, texts_seen
from tests.support.databases import create_empty_postgres_database, postgres_unavailable

INSPECT = CrossTenant("a test looks at the stored rows")


async def rows_of(svc: Services, table: str) -> int:
    async with svc.db.read(INSPECT) as conn:
        count = (
            await conn.execute(select(func.count()).select_from(schema.metadata.tables[table]))
        ).scalar()
    return int(count or 0)


async def last_position(svc: Services, history: History) -> int:
    """How many messages the conversation holds (positions are dense: 1, 2, 3...)."""
    c = schema.conversations.c
    async with svc.db.read(INSPECT) as conn:
        found = await conn.execute(select(c.last_position).where(c.id == history.conversation_id))
        return int(found.scalar_one())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_backup_and_restore_give_back_the_same_database_and_files(
    request: pytest.FixtureRequest, kind: str, tmp_path: Path
) -> None:
    async with stack(request, kind, tmp_path / "source") as svc:
        history = await seed_history(svc, sends=12)
        await svc.files.put("ab" * 12, PNG)  # a file no row names: not part of the data
        path, manifest = await create_backup(svc.settings, tmp_path / "b.tar.gz")
        assert path.stat().st_mode & 0o777 == 0o600
        assert manifest.database_kind == kind and manifest.schema_revision
        # Sends, the opening, the file, reply and note, and the claim's event: all of them.
        assert manifest.counts["messages"] == await last_position(svc, history) > 12 + 4
        assert manifest.counts["conversations"] == 1
        assert manifest.attachments == 1 and manifest.attachment_bytes == len(PNG)
        assert read_manifest(path).counts == manifest.counts

    target_url = (
        create_empty_postgres_database()
        if kind == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 'target' / 'raasel.sqlite3'}"
    )
    target = Settings(var_dir=tmp_path / "target", database_url=target_url, secret_key="x" * 40)
    restored = await restore_backup(target, path)
    assert restored.counts == manifest.counts
    with pytest.raises(BackupError, match=r"fresh|empty|already"):
        await restore_backup(target, path)
    again = build_services(target)
    try:
        assert await texts_seen(again, history.customer, history.conversation_id) == history.texts
        assert await rows_of(again, "memberships") == 2
        stored = target.resolved_attachments_dir / history.attachment_id[-2:]
        assert (stored / history.attachment_id).read_bytes() == PNG
        assert not (stored.parent / "ab" / ("ab" * 12)).exists()
    finally:
        await again.db.close()


async def test_a_damaged_or_foreign_archive_is_refused_before_anything_is_written(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with stack(request, "sqlite", tmp_path / "source") as svc:
        await seed_history(svc, sends=2)
        path, manifest = await create_backup(svc.settings, tmp_path / "b.tar.gz")

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(path) as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original:
            data = original.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == manifest.database_file:
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.addfile(member, io.BytesIO(data))
    target = Settings(var_dir=tmp_path / "t1", secret_key="x" * 40)
    with pytest.raises(BackupError, match="checksum"):
        await restore_backup(target, damaged)
    assert not (tmp_path / "t1" / "raasel.sqlite3").exists()

    smuggled = tmp_path / "smuggled.tar.gz"
    with tarfile.open(path) as original, tarfile.open(smuggled, "w:gz") as copy:
        for member in original:
            copy.addfile(member, original.extractfile(member))
        extra = tarfile.TarInfo("../../escape")
        extra.size = 1
        copy.addfile(extra, io.BytesIO(b"x"))
    with pytest.raises(BackupError, match="does not list"):
        await restore_backup(Settings(var_dir=tmp_path / "t2", secret_key="x" * 40), smuggled)
    assert not (tmp_path / "escape").exists()

    if postgres_unavailable() is None:
        on_postgres = Settings(
            var_dir=tmp_path / "t3", database_url=create_empty_postgres_database()
        )
        with pytest.raises(BackupError, match="sqlite database"):
            await restore_backup(on_postgres, path)


@pytest.mark.timeout(300)  # the first Cassandra test starts the server
@pytest.mark.parametrize("wiring", ["sqlite", "postgresql", "sqlite+cassandra"])
async def test_an_organization_exports_and_imports_elsewhere_with_its_history(
    request: pytest.FixtureRequest, wiring: str, tmp_path: Path
) -> None:
    exported = tmp_path / "org.jsonl"
    async with stack(request, wiring, tmp_path / "source", keyspace="src") as svc:
        history = await seed_history(svc, sends=40)
        other = await seed_history(svc, sends=1)  # another tenant: not in the export
        room = await team_rooms.do_create_room(svc, history.agent, name="Billing", member_ids=[])
        rid = room.result["id"]
        room_texts = [f"room {i}" for i in range(3)]
        for i, text in enumerate(room_texts):
            await team_room_messages.do_send(svc, history.agent, rid, client_id=f"r{i}", text=text)
        await team_rooms.do_create_room(svc, other.agent, name="Theirs", member_ids=[])
        await svc.db.drain_published()
        counts = await export_org(svc, history.slug, exported)
        positions = await last_position(svc, history)
        with pytest.raises(BackupError, match="exists"):
            await export_org(svc, history.slug, exported)
    assert exported.stat().st_mode & 0o777 == 0o600
    assert counts["messages"] == positions + len(room_texts) and counts["conversations"] == 1
    assert counts["team_rooms"] == 1 and counts["team_room_members"] == 1
    assert counts["attachments"] == 1
    assert counts["users"] == 3  # owner, agent, customer
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[-1] == {"type": "end", "counts": counts}
    assert other.org_id not in exported.read_text()

    async with stack(request, wiring, tmp_path / "target", keyspace="dst") as target:
        slug, imported = await import_org(target, exported)
        assert slug == history.slug and imported == counts
        assert await texts_seen(target, history.customer, history.conversation_id) == history.texts
        agent_view = await texts_seen(target, history.agent, history.conversation_id)
        assert "internal only" in agent_view
        # The team room, its member (with their watermarks) and its messages came along.
        [listed] = await team_rooms.list_rooms(target, history.agent)
        assert listed["id"] == rid and listed["name"] == "Billing"
        assert listed["last_position"] == len(room_texts)
        assert listed["membership"]["read_position"] == len(room_texts)
        synced = await team_room_messages.sync_room(target, history.agent, rid, after_position=0)
        assert [m["text"] for m in synced["messages"]] == room_texts
        assert [m["sender_name"] for m in synced["messages"]] == ["Agent"] * len(room_texts)
        sent = await team_room_messages.do_send(
            target, history.agent, rid, client_id="after", text="after the move"
        )
        assert sent.result["position"] == len(room_texts) + 1
        retried = await team_room_messages.do_send(
            target, history.agent, rid, client_id="r0", text="room 0"
        )
        assert retried.result["position"] == 1  # the client ids came along: a retry is one
        if wiring.endswith("cassandra"):  # in the store itself, the outbox emptied
            stored = await target.messages.after(
                history.org_id,
                history.conversation_id,
                after=0,
                up_to=10_000,
                limit=100,
                include_notes=True,
            )
            assert len(stored) == counts["messages"] - len(room_texts)
            assert await rows_of(target, "message_outbox") == 0
        assert counts["report_events"] >= 3  # opened, assigned, first response
        assert await rows_of(target, "report_events") == counts["report_events"]
        with pytest.raises(BackupError, match="already exists"):
            await import_org(target, exported)


async def test_an_import_refuses_rows_of_another_tenant_and_truncated_files(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    exported = tmp_path / "org.jsonl"
    async with stack(request, "sqlite", tmp_path / "source") as svc:
        history = await seed_history(svc, sends=3)
        await export_org(svc, history.slug, exported)
    lines = exported.read_text().splitlines()

    def variant(name: str, edited: list[str]) -> Path:
        path = tmp_path / name
        path.write_text("\n".join(edited) + "\n")
        return path

    foreign = []
    for line in lines:
        item = json.loads(line)
        if item.get("table") == "conversations":
            item["row"]["org_id"] = "someone-else"
        foreign.append(json.dumps(item))
    async with stack(request, "sqlite", tmp_path / "target") as target:
        with pytest.raises(BackupError, match="another organization"):
            await import_org(target, variant("foreign.jsonl", foreign))
        with pytest.raises(BackupError, match="truncated"):
            await import_org(target, variant("short.jsonl", lines[:-3]))
        with pytest.raises(BackupError, match="header"):
            await import_org(target, variant("headless.jsonl", lines[1:]))
        assert await rows_of(target, "organizations") == 0, "all or nothing"
        assert await rows_of(target, "users") == 0


def test_every_table_is_exported_or_left_out_for_a_reason() -> None:
    exported = {t.name for t in TABLES}
    assert not exported & set(NOT_EXPORTED)
    assert exported | set(NOT_EXPORTED) == set(schema.metadata.tables), (
        "a new table: add it to org_export.TABLES (in foreign-key order) or NOT_EXPORTED"
    )

"""Backups of a node's data (``raasel backup|restore|export-org|import-org``).

- ``node_backup``: one archive of the metadata database and the attachments, taken while
  the node serves (SQLite's online backup API, or ``pg_dump`` in one exported snapshot),
  with a manifest of counts and checksums that ``restore`` verifies before anything is
  put in place.
- ``org_export`` / ``org_import`` (format: ``org_format``): one organization's data
  (members, conversations, messages...) as JSON lines, from any message store (SQL or
  Cassandra) into any other deployment.

Procedures per stack, and the Cassandra snapshot procedure: docs/backup.md.
"""

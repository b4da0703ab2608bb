"""Outgoing mail for the whole product: templates, an outbox in the metadata database,
and one transport (SMTP, or files under ``var/outbox`` when no server is configured).

Actions queue a mail inside their own transaction (``actions/mail.py``), so a mail goes
out only for a change that committed; ``outbox.MailOutbox`` delivers it afterwards and
retries until the server takes it. docs/security.md, README "Mail".
"""

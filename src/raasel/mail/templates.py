"""The mails the product sends, as plain-text templates (never HTML: no user text is ever
rendered as markup, and plain text cannot hide a link behind other words).

Fields are ``$name`` placeholders (``string.Template``); every field is required. Values
are cleaned of control characters, so a display name cannot add lines to a mail or a
header. Add a template here and queue it with ``actions.mail.queue_mail``.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

SIGNATURE = "\n\n-- \nRaasel\n$public_url\n"


def clean(value: str, limit: int = 500) -> str:
    """One line of text: control characters become spaces, bounded length."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(text.split())[:limit]


def clean_block(value: str, limit: int = 60_000) -> str:
    """Several lines (quoted messages): each line cleaned, the whole bounded."""
    return "\n".join(clean(line, 4000) for line in value.splitlines())[:limit]


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    subject: str
    body: str
    blocks: tuple[str, ...] = ()  # fields that keep their lines (never in the subject)

    def render(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """(subject, body) with ``fields`` filled in; KeyError if one is missing."""
        values = {k: clean_block(v) if k in self.blocks else clean(v) for k, v in fields.items()}
        subject = clean(string.Template(self.subject).substitute(values), 200)
        body = string.Template(self.body + SIGNATURE).substitute(values)
        return subject, body


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "verify_email",
            "Confirm your Raasel account",
            "Hello $name,\n\n"
            "Someone (hopefully you) created a Raasel account with this address.\n"
            "To confirm it, open this link and enter the password you chose:\n\n"
            "$link\n\n"
            "The link works once and expires in $hours hours. If you did not sign up,\n"
            "ignore this mail: no account is created without it.",
        ),
        Template(
            "confirm_address",
            "Confirm your Raasel address",
            "Hello $name,\n\n"
            "Someone (hopefully you) asked to confirm the address of your Raasel account.\n"
            "Open this link and enter your password:\n\n"
            "$link\n\n"
            "The link works once and expires in $hours hours. If you did not ask for it,\n"
            "ignore this mail: nothing was changed.",
        ),
        Template(
            "account_exists",
            "Someone tried to sign up with your address",
            "Hello,\n\n"
            "Someone tried to create a Raasel account with this address, but you already\n"
            "have one. If it was you, log in at $public_url/ or, if you forgot your\n"
            "password, ask for a new one there. If it was not you, ignore this mail:\n"
            "nothing was changed.",
        ),
        Template(
            "reset_password",
            "Reset your Raasel password",
            "Hello $name,\n\n"
            "Someone (hopefully you) asked to reset the password of your Raasel account.\n"
            "To choose a new one, open this link:\n\n"
            "$link\n\n"
            "The link works once and expires in $minutes minutes. Choosing a new password\n"
            "logs out every device. If you did not ask, ignore this mail: your password\n"
            "stays as it is.",
        ),
        Template(
            "invitation",
            "$inviter invites you to $org on Raasel",
            "Hello $name,\n\n"
            "$inviter invites you to join $org on Raasel as $role.\n"
            "To accept, open this link:\n\n"
            "$link\n\n"
            "If you already have a Raasel account with this address, you will be asked\n"
            "for its password; otherwise you choose one. The invitation works once and\n"
            "expires in $days days. If you do not know $org, ignore this mail.",
        ),
        Template(
            "followup",
            "$org replied to your conversation",
            "Hello $name,\n\n"
            "$org wrote to you while you were away:\n\n"
            "$messages\n\n"
            "Read the conversation and answer here:\n$link\n\n"
            "You get this mail because a reply was not seen within a few minutes.\n"
            "No more of these mails: $unsubscribe",
            blocks=("messages",),
        ),
        Template(
            "transcript",
            "Your conversation with $org",
            "Hello $name,\n\n"
            "Here is the conversation with $org you asked for ($subject):\n\n"
            "$messages\n\n"
            "Open it: $link",
            blocks=("messages",),
        ),
        Template(
            "assigned_away",
            "A conversation was assigned to you: $subject",
            "Hello $name,\n\n"
            "$by assigned you a conversation of $org while you were away:\n"
            '"$subject"\n\n'
            "Open the console: $link",
        ),
    )
}

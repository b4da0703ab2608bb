"""Request bodies: strict schemas with size limits on every field (SPEC 5).

Unknown fields are refused, strings are bounded, ids have the shape of ids.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from raasel.domain import Availability, Priority, Role, RoutingPolicy
from raasel.rules import business_hours

Id = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
# New attachment ids are 24 random hex digits; older ones are snowflakes (digits).
AttachmentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{1,24}$")]
ClientId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
# A request an admin gives as an example of what a group handles (issue 14), any language.
ExampleRequest = Annotated[
    str, StringConstraints(min_length=3, max_length=300, strip_whitespace=True)
]
ExampleRequests = Annotated[list[ExampleRequest], Field(max_length=10)]
MessageText = Annotated[str, StringConstraints(max_length=4000)]


def _real_range(text: str) -> str:
    business_hours.parse_range(text)  # real times, a real range, overnight only with "+1"
    return text


def _real_day(text: str) -> str:
    date.fromisoformat(text)
    return text


TimeRange = Annotated[str, StringConstraints(max_length=16), AfterValidator(_real_range)]
DayHours = Annotated[list[TimeRange], Field(max_length=4)]
TimeZoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(business_hours.check_zone)
]
Holiday = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), AfterValidator(_real_day)
]


class BusinessHours(BaseModel):
    """rules/business_hours.py: ranges per weekday, an optional zone, closed dates."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimeZoneName | None = None
    mon: DayHours | None = None
    tue: DayHours | None = None
    wed: DayHours | None = None
    thu: DayHours | None = None
    fri: DayHours | None = None
    sat: DayHours | None = None
    sun: DayHours | None = None
    holidays: Annotated[list[Holiday], Field(max_length=100)] | None = None

    @model_serializer(mode="wrap")
    def _without_nones(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        """No text holds NUL: PostgreSQL refuses it (a 500 there), and no client needs it."""
        if _has_nul(value):
            raise ValueError("text must not contain NUL characters")
        return value


class RegisterBody(Strict):
    email: EmailStr
    password: Password
    display_name: Name


class LoginBody(Strict):
    email: EmailStr
    password: Annotated[str, StringConstraints(max_length=128)]
    organization: Slug | None = None


class RefreshBody(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


LinkToken = Annotated[
    str, StringConstraints(min_length=20, max_length=100, pattern=r"^[0-9]{1,20}\.[A-Za-z0-9_-]+$")
]


class VerifyEmailBody(Strict):
    token: LinkToken
    password: Annotated[str, StringConstraints(max_length=128)]


class ForgotPasswordBody(Strict):
    email: EmailStr


class ResendVerificationBody(Strict):
    email: EmailStr


class ResetPasswordBody(Strict):
    token: LinkToken
    password: Password


class InvitationTokenBody(Strict):
    token: LinkToken


class AcceptInvitationBody(Strict):
    token: LinkToken
    # An existing account's password, or the new account's (8-128 then).
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    display_name: Name | None = None


class VisitorBody(Strict):
    organization: Slug
    display_name: Name | None = None  # "Visitor" unless the pre-chat form asked
    email: EmailStr | None = None  # the pre-chat form's (unverified, never a login)
    # The widget's frame: keep the session in a partitioned, HttpOnly cookie of Raasel's
    # own origin (POST /auth/widget/resume), so the host page never holds a token.
    keep: bool = False


# An origin that may embed the organization's widget: scheme, host, optional port
# (``*`` for any port, as CSP allows).
EmbedOrigin = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^https?://[a-z0-9.-]+(:([0-9]{1,5}|\*))?$")
]


Ask = Literal["off", "optional", "required"]


class PrechatSettings(Strict):
    """The widget's optional pre-chat form, set by the organization: what it asks before
    the first message (``team``: the group the visitor picks; ``off`` hides the choice)."""

    name: Ask = "off"
    email: Ask = "off"
    team: Ask = "optional"


class OrgSettings(Strict):
    welcome_text: ShortText | None = None
    prechat: PrechatSettings | None = None
    embed_origins: Annotated[list[EmbedOrigin], Field(max_length=20)] | None = None
    theme_color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    offline_message: ShortText | None = None
    business_hours: BusinessHours | None = None
    timezone: TimeZoneName | None = None  # of the business hours and the reports
    # b2b conversations from organizations it does not know: taken, or requests.
    b2b_requests: Literal["open", "known_only"] | None = None


class OrgCreateBody(Strict):
    slug: Slug
    name: Name
    description: ShortText = ""
    category: Annotated[str, StringConstraints(max_length=64)] = ""
    domains: list[
        Annotated[str, StringConstraints(min_length=3, max_length=253, pattern=r"^[a-z0-9.-]+$")]
    ] = Field(default_factory=list, max_length=10)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = Field(
        default_factory=list, max_length=10
    )
    settings: OrgSettings = Field(default_factory=OrgSettings)
    is_listed: bool = True


class OrgUpdateBody(Strict):
    name: Name | None = None
    description: ShortText | None = None
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    domains: (
        list[
            Annotated[
                str, StringConstraints(min_length=3, max_length=253, pattern=r"^[a-z0-9.-]+$")
            ]
        ]
        | None
    ) = Field(default=None, max_length=10)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] | None = Field(
        default=None, max_length=10
    )
    settings: OrgSettings | None = None
    is_listed: bool | None = None

    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True)
        if "settings" in data and data["settings"] is not None:
            data["settings"] = {k: v for k, v in data["settings"].items() if v is not None}
            if self.settings is not None and self.settings.prechat is not None:
                data["settings"]["prechat"] = self.settings.prechat.model_dump()  # whole
        return {k: v for k, v in data.items() if v is not None}


class GroupCreateBody(Strict):
    slug: Slug
    name: Name
    description: ShortText = ""
    policy: RoutingPolicy = RoutingPolicy.ROUND_ROBIN
    business_hours: BusinessHours | None = None
    # Conversations of an agent away this long go back to the queue (0: never; unset:
    # the node's default, RAASEL_AWAY_REQUEUE_SECONDS).
    requeue_after_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] | None = None
    # Up to ten example requests, in any language, embedded with the description.
    examples: ExampleRequests = []


class GroupUpdateBody(Strict):
    name: Name | None = None
    description: ShortText | None = None
    policy: RoutingPolicy | None = None
    business_hours: BusinessHours | None = None
    requeue_after_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] | None = None
    examples: ExampleRequests = []  # the whole list (unset: unchanged)


class InvitationBody(Strict):
    """An invitation (``POST /orgs/{id}/invitations``, or ``/members``): no password, the
    person chooses theirs, or proves the existing account's, when accepting."""

    email: EmailStr
    display_name: Name
    role: Role = Role.AGENT
    capacity: Annotated[int, Field(ge=1, le=100)] = 5
    group_ids: list[Id] = Field(default_factory=list, max_length=50)


class MemberUpdateBody(Strict):
    role: Role | None = None
    capacity: Annotated[int, Field(ge=1, le=100)] | None = None
    is_active: bool | None = None
    group_ids: list[Id] | None = Field(default=None, max_length=50)


class AvailabilityBody(Strict):
    """Either or both: what the agent chooses now, and whether an automatic "away" (no
    console for the grace period) turns back into "online" when a console returns."""

    availability: Availability | None = None
    restores_availability: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> AvailabilityBody:
        if self.availability is None and self.restores_availability is None:
            raise ValueError("give availability, restores_availability or both")
        return self


class LeaveEmailBody(Strict):
    email: EmailStr


class OpenConversationBody(Strict):
    org_id: Id
    group_id: Id | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    client_id: ClientId
    subject: Annotated[str, StringConstraints(max_length=200)] = ""
    # The customer's closed conversation this one continues.
    follows: Id | None = None


class SendMessageBody(Strict):
    client_id: ClientId
    text: MessageText = ""
    kind: Annotated[str, StringConstraints(pattern=r"^(text|note)$")] = "text"
    attachment_id: AttachmentId | None = None


class ConversationUpdateBody(Strict):
    tags: list[Tag] | None = Field(default=None, max_length=20)
    priority: Priority | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    # One of the organization's categories ("" clears it): docs/protocol.md, "Ticket fields".
    category: Annotated[str, StringConstraints(max_length=40)] | None = None


class AssignBody(Strict):
    agent_id: Id


class TransferBody(Strict):
    agent_id: Id | None = None
    group_id: Id | None = None


class EscalateBody(Strict):
    supervisor_id: Id | None = None


Position = Annotated[int, Field(ge=0, le=2**62)]


class WatermarkBody(Strict):
    """The newest position received/seen (``up_to_position``), or a message id (``up_to``)."""

    up_to: Id | None = None
    up_to_position: Position | None = None

    @model_validator(mode="after")
    def _one_of(self) -> WatermarkBody:
        if (self.up_to is None) == (self.up_to_position is None):
            raise ValueError("give exactly one of up_to_position or up_to")
        return self

    def marks(self) -> dict[str, int | None]:
        """The keyword arguments of ``receipts.do_mark``."""
        return {
            "up_to_position": self.up_to_position,
            "up_to_id": int(self.up_to) if self.up_to is not None else None,
        }


# ----- conversation kinds (docs/protocol.md, "Outreach") ------------------------------


class OutreachBody(Strict):
    """An agent writes first: to a person with an account (``email`` or ``handle``) or to
    a past customer of the organization (``customer_id``); exactly one of them."""

    email: EmailStr | None = None
    handle: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    customer_id: Id | None = None
    group_id: Id | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    client_id: ClientId
    subject: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_recipient(self) -> OutreachBody:
        if [self.email, self.handle, self.customer_id].count(None) != 2:
            raise ValueError("give exactly one of email, handle or customer_id")
        return self


class B2BOpenBody(Strict):
    """An agent opens a conversation with another (listed) organization, optionally one
    of its groups."""

    org_id: Id
    group_id: Id | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    client_id: ClientId
    subject: Annotated[str, StringConstraints(max_length=200)] = ""


class ContactBody(Strict):
    """An individual mutes or blocks (or unmutes, unblocks) one organization."""

    is_muted: bool | None = None
    is_blocked: bool | None = None


# ----- ticket fields (docs/protocol.md, "Ticket fields") ------------------------------

Category = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class CategoriesBody(Strict):
    """The organization's whole list of categories, in the order to show them."""

    categories: list[Category] = Field(max_length=50)


class ResolveBody(Strict):
    """What was done, for the organization's own record (never shown to the customer)."""

    resolution_note: Annotated[str, StringConstraints(max_length=1000)] = ""

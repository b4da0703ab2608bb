"""Request bodies: strict schemas with size limits on every field (SPEC 5).

Unknown fields are refused, strings are bounded, ids have the shape of ids.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from raasel.domain import Availability, Priority, Role, RoutingPolicy

Id = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
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
MessageText = Annotated[str, StringConstraints(max_length=4000)]


TimeRange = Annotated[
    str, StringConstraints(pattern=r"^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$")
]
Weekday = Annotated[str, StringConstraints(pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")]
BusinessHours = Annotated[
    dict[Weekday, Annotated[list[TimeRange], Field(max_length=4)]], Field(max_length=7)
]


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


class VisitorBody(Strict):
    organization: Slug
    display_name: Name = "Visitor"


class OrgSettings(Strict):
    welcome_text: ShortText | None = None
    theme_color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    offline_message: ShortText | None = None
    business_hours: BusinessHours | None = None


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
        return {k: v for k, v in data.items() if v is not None}


class GroupCreateBody(Strict):
    slug: Slug
    name: Name
    description: ShortText = ""
    policy: RoutingPolicy = RoutingPolicy.ROUND_ROBIN
    business_hours: BusinessHours | None = None


class GroupUpdateBody(Strict):
    name: Name | None = None
    description: ShortText | None = None
    policy: RoutingPolicy | None = None
    business_hours: BusinessHours | None = None


class MemberCreateBody(Strict):
    email: EmailStr
    display_name: Name
    password: Password | None = None
    role: Role = Role.AGENT
    capacity: Annotated[int, Field(ge=1, le=100)] = 5
    group_ids: list[Id] = Field(default_factory=list, max_length=50)


class MemberUpdateBody(Strict):
    role: Role | None = None
    capacity: Annotated[int, Field(ge=1, le=100)] | None = None
    is_active: bool | None = None
    group_ids: list[Id] | None = Field(default=None, max_length=50)


class AvailabilityBody(Strict):
    availability: Availability


class OpenConversationBody(Strict):
    org_id: Id
    group_id: Id | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    client_id: ClientId
    subject: Annotated[str, StringConstraints(max_length=200)] = ""


class SendMessageBody(Strict):
    client_id: ClientId
    text: MessageText = ""
    kind: Annotated[str, StringConstraints(pattern=r"^(text|note)$")] = "text"
    attachment_id: Id | None = None


class ConversationUpdateBody(Strict):
    tags: list[Tag] | None = Field(default=None, max_length=20)
    priority: Priority | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None


class AssignBody(Strict):
    agent_id: Id


class TransferBody(Strict):
    agent_id: Id | None = None
    group_id: Id | None = None


class EscalateBody(Strict):
    supervisor_id: Id | None = None


class WatermarkBody(Strict):
    up_to: Id

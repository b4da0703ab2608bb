"""The Graph API client: sends, templates and media, for the three platforms (httpx).

The base URL is a setting (``RAASEL_GRAPH_BASE_URL``); tests point it at a fake Graph
server of their own. Every call carries the channel's token as a bearer token; a refusal
becomes ``GraphError`` with the provider's error code (channels/failures.py says what
it means for the send).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from raasel.channels.failures import GraphFailure
from raasel.channels.platforms import Platform


class GraphError(Exception):
    def __init__(self, failure: GraphFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


@dataclass(frozen=True, slots=True)
class Account:
    """What a call needs of a channel: which platform, which account, its token."""

    platform: str
    external_id: str
    business_account_id: str | None
    access_token: str


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes
    content_type: str | None


class GraphClient:
    def __init__(self, base_url: str, *, timeout: float, max_media_bytes: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_media_bytes = max_media_bytes
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(
        self, account: Account, method: str, path_or_url: str, **kwargs: Any
    ) -> dict[str, Any]:
        url = path_or_url if "://" in path_or_url else f"{self.base_url}/{path_or_url}"
        headers = {"Authorization": f"Bearer {account.access_token}"}
        try:
            response = await self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError(GraphFailure(0, None, f"no answer: {type(exc).__name__}")) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 400:
            found = body.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            code = error.get("code")
            raise GraphError(
                GraphFailure(
                    response.status_code,
                    code if isinstance(code, int) else None,
                    str(error.get("message") or f"HTTP {response.status_code}")[:200],
                )
            )
        return body

    async def send(self, account: Account, recipient: str, message: dict[str, Any]) -> str:
        """Send one message; return the provider's message id.

        ``message``: WhatsApp's ``{"type": "text", "text": {...}}`` or template; for
        Messenger/Instagram ``{"message": {...}, "messaging_type": ..., "tag": ...}``."""
        if account.platform == Platform.WHATSAPP:
            body = {"messaging_product": "whatsapp", "recipient_type": "individual"}
            body |= {"to": recipient} | message
            answer = await self._call(account, "POST", f"{account.external_id}/messages", json=body)
            messages = answer.get("messages")
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                return str(messages[0].get("id", ""))[:255]
            raise GraphError(GraphFailure(502, None, "the send answer named no message id"))
        body = {"recipient": {"id": recipient}} | message
        answer = await self._call(account, "POST", f"{account.external_id}/messages", json=body)
        if not answer.get("message_id"):
            raise GraphError(GraphFailure(502, None, "the send answer named no message id"))
        return str(answer["message_id"])[:255]

    async def upload_media(
        self, account: Account, kind: str, data: bytes, content_type: str, filename: str
    ) -> str:
        """Upload a file an agent sends; return the provider's id for it. WhatsApp:
        ``POST /{phone-number-id}/media``; Messenger and Instagram: the Attachment Upload
        API, ``POST /{page-id}/message_attachments`` (``platform=instagram`` for Instagram)."""
        files = {
            "file" if account.platform == Platform.WHATSAPP else "filedata": (
                filename,
                data,
                content_type,
            )
        }
        if account.platform == Platform.WHATSAPP:
            form = {"messaging_product": "whatsapp", "type": content_type}
            answer = await self._call(
                account, "POST", f"{account.external_id}/media", data=form, files=files
            )
            found = answer.get("id")
        else:
            attachment = {"attachment": {"type": kind, "payload": {"is_reusable": True}}}
            form = {"message": json.dumps(attachment)}
            if account.platform == Platform.INSTAGRAM:
                form["platform"] = "instagram"
            answer = await self._call(
                account,
                "POST",
                f"{account.external_id}/message_attachments",
                data=form,
                files=files,
            )
            found = answer.get("attachment_id")
        if not found:
            raise GraphError(GraphFailure(502, None, "the upload answer named no media id"))
        return str(found)[:255]

    async def approved_templates(self, account: Account) -> list[dict[str, Any]]:
        """The WhatsApp Business account's approved message templates (first 100)."""
        if not account.business_account_id:
            return []
        answer = await self._call(
            account,
            "GET",
            f"{account.business_account_id}/message_templates",
            params={"status": "APPROVED", "limit": "100"},
        )
        data = answer.get("data")
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    async def fetch_media(self, account: Account, ref: str) -> Media:
        """The bytes of an inbound file: WhatsApp names a media id (its URL asked first),
        Messenger and Instagram give the URL. Bounded by ``max_media_bytes``."""
        url = ref
        if account.platform == Platform.WHATSAPP:
            info = await self._call(account, "GET", ref)
            url = str(info.get("url") or "")
            if not url:
                raise GraphError(GraphFailure(404, None, "the media has no URL"))
        headers = {"Authorization": f"Bearer {account.access_token}"}
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    raise GraphError(
                        GraphFailure(response.status_code, None, "the media could not be fetched")
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_media_bytes:
                        raise MediaTooLarge(self.max_media_bytes)
                    chunks.append(chunk)
                return Media(b"".join(chunks), response.headers.get("content-type"))
        except httpx.HTTPError as exc:
            raise GraphError(GraphFailure(0, None, f"no answer: {type(exc).__name__}")) from exc


class MediaTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"files are limited to {limit} bytes")
        self.limit = limit

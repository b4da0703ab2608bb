"""Social channels: WhatsApp Business, Messenger and Instagram (docs/channels.md).

Pure rules (signatures, payloads, the customer-service window, provider failures) and
the Graph API client; the units that use them live in ``actions/channel_*.py``.
"""

"""Messages for chat channels: the one place that builds Slack and Microsoft Teams incoming-webhook bodies.

Every domain that tells a team something in chat (new and overdue follow-ups, expectation signals)
describes it as a `ChatMessage`: a title, a few lines, and the deep link to the page that needs
action, already in the organisation's language. `chat_payload` turns it into what the receiving
service documents:

- Slack incoming webhooks (``hooks.slack.com/services/...``): ``text`` (the notification and
  fallback text) and ``blocks`` (Block Kit: a header, a section in ``mrkdwn`` with the link as
  ``<url|label>``). Slack's mrkdwn wants ``&``, ``<`` and ``>`` escaped as HTML entities.
- Microsoft Teams: since the Office 365 connectors were retired, a channel's incoming webhook is a
  Workflows ("Post to a channel when a webhook request is received") URL, which takes a message
  with one Adaptive Card attachment (``contentType: application/vnd.microsoft.card.adaptive``):
  TextBlocks for title and lines, an ``Action.OpenUrl`` for the link.

The posting itself is `servicepulse.notify.webhooks.post_signed` (Slack and Teams ignore the signature
headers), called from each domain's job handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHAT_KINDS = ("slack", "teams")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_VERSION = "1.4"  # the newest version every Teams client renders


@dataclass(frozen=True)
class ChatMessage:
    title: str
    lines: list[str] = field(default_factory=list)
    link: str = ""  # the page that needs action (absolute, SERVICEPULSE_BASE_URL + path)
    link_label: str = ""
    urgent: bool = False  # shown in the attention colour (an overdue follow-up)


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters as entities (its documented escaping; nothing else is escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(message: ChatMessage) -> str:
    """One line for notifications and previews: title, lines, link."""
    parts = [message.title, *message.lines]
    if message.link:
        parts.append(message.link)
    return " - ".join(p for p in parts if p)


def slack_payload(message: ChatMessage) -> dict:
    body = "\n".join(slack_escape(line) for line in message.lines)
    if message.link:
        label = slack_escape(message.link_label or message.link)
        body = f"{body}\n<{message.link}|{label}>" if body else f"<{message.link}|{label}>"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": message.title[:150],
                                                      "emoji": False}}]
    if body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
    return {"text": slack_escape(plain_text(message)), "blocks": blocks}


def teams_payload(message: ChatMessage) -> dict:
    body: list[dict] = [{"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium",
                         "wrap": True, "color": "Attention" if message.urgent else "Default"}]
    body += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"} for line in message.lines]
    card: dict = {"$schema": ADAPTIVE_SCHEMA, "type": "AdaptiveCard", "version": ADAPTIVE_VERSION, "body": body,
                  "msteams": {"width": "Full"}}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": message.link_label or message.link,
                            "url": message.link}]
    return {"type": "message", "summary": message.title,
            "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}]}


def chat_payload(kind: str, message: ChatMessage) -> dict:
    """The JSON body for a channel of ``kind`` (slack or teams)."""
    if kind == "slack":
        return slack_payload(message)
    if kind == "teams":
        return teams_payload(message)
    raise ValueError(f"chat kind must be one of {', '.join(CHAT_KINDS)}, not {kind!r}")

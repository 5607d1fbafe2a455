"""Media in text-only answers: a generated image becomes a markdown image (as the reference does).

Shared by the client-facing codecs whose answers have no block for an assistant image (OpenAI
chat and Responses, Anthropic). Nothing else lives here.
"""

from __future__ import annotations

from antigravity_gateway.core.messages import Media


def markdown_image(media: Media) -> str:
    """`![image](data:<mime>;base64,<data>)`, or the image's URL when it has no inline data."""
    target = f"data:{media.mime};base64,{media.data}" if media.data else media.url
    return f"![image]({target})"

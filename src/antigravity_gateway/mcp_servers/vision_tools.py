"""The 8 vision tools of z.ai's `zai-mcp-server` (reference §10.4): names, inputs and instructions.

Pure data: each tool names the media arguments it sends to the vision model, optional text
arguments folded into the prompt, and the system instruction that shapes the answer. Calling
z.ai lives in `vision.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGE = "image"
VIDEO = "video"
_SOURCE = "Image URL (http/https) or data URL (data:image/png;base64,...)"
_VIDEO_SOURCE = "Video URL (http/https) or data URL (data:video/mp4;base64,...)"


@dataclass(frozen=True, slots=True, kw_only=True)
class VisionTool:
    """One tool: its MCP description and how a call becomes a vision request."""

    name: str
    description: str
    instruction: str  # the system message for the vision model
    media: tuple[tuple[str, str, str], ...]  # (argument, IMAGE | VIDEO, description)
    extras: tuple[tuple[str, str], ...] = ()  # optional text arguments: (name, description)

    def input_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            arg: {"type": "string", "description": desc} for arg, _, desc in self.media
        }
        properties["prompt"] = {"type": "string", "description": "What to find out or produce"}
        properties.update({arg: {"type": "string", "description": d} for arg, d in self.extras})
        required = [arg for arg, _, _ in self.media] + ["prompt"]
        return {"type": "object", "properties": properties, "required": required}


def _image(name: str, description: str, instruction: str, *extras: tuple[str, str]) -> VisionTool:
    return VisionTool(
        name=name,
        description=description,
        instruction=instruction,
        media=(("image_source", IMAGE, _SOURCE),),
        extras=extras,
    )


TOOLS: tuple[VisionTool, ...] = (
    _image(
        "ui_to_artifact",
        "Turn a UI screenshot into code, an AI prompt, a design spec or a description.",
        "You turn UI screenshots into artifacts. Produce exactly the requested output type "
        "(code, prompt, spec or description), faithful to layout, spacing, colours and text.",
        ("output_type", "code | prompt | spec | description (default: code)"),
    ),
    _image(
        "extract_text_from_screenshot",
        "Extract text (code, terminal output, documents) from a screenshot, OCR-style.",
        "You extract text from screenshots exactly as shown, preserving line breaks and "
        "indentation. Output only the text unless asked otherwise.",
        ("programming_language", "Language of code in the image, if any"),
    ),
    _image(
        "diagnose_error_screenshot",
        "Diagnose an error message or stack trace in a screenshot and suggest fixes.",
        "You diagnose software errors from screenshots: read the error, explain the likely "
        "cause, and give concrete fixes in order of likelihood.",
        ("context", "What was being done when the error appeared"),
    ),
    _image(
        "understand_technical_diagram",
        "Explain an architecture, flow, UML, ER or sequence diagram.",
        "You explain technical diagrams: name the components, their relations and the flow, "
        "and answer the question precisely.",
        ("diagram_type", "architecture | flowchart | uml | er | sequence | other"),
    ),
    _image(
        "analyze_data_visualization",
        "Read a chart or dashboard: values, trends, anomalies and insights.",
        "You analyse charts and dashboards: read values accurately, describe trends and "
        "anomalies, and state the insights that matter.",
        ("analysis_focus", "What to focus on (trends, anomalies, comparisons, ...)"),
    ),
    VisionTool(
        name="ui_diff_check",
        description="Compare an expected UI screenshot with the actual one and list differences.",
        instruction="You compare two UI screenshots, the first expected and the second actual, "
        "and list every visual difference (layout, colour, text, spacing, missing elements).",
        media=(
            ("expected_image_source", IMAGE, "The expected UI: " + _SOURCE),
            ("actual_image_source", IMAGE, "The actual UI: " + _SOURCE),
        ),
    ),
    _image(
        "analyze_image",
        "General image understanding: describe or answer questions about any image.",
        "You analyse images carefully and answer the question about them accurately.",
    ),
    VisionTool(
        name="analyze_video",
        description="Understand a video (MP4, MOV, M4V; up to 8 MB): scenes, actions, content.",
        instruction="You analyse videos: describe scenes, actions and content, and answer "
        "the question about them accurately.",
        media=(("video_source", VIDEO, _VIDEO_SOURCE),),
    ),
)
BY_NAME = {tool.name: tool for tool in TOOLS}

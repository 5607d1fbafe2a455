"""antigravity-manager: a local gateway from OpenAI, Anthropic and Gemini clients to Google Cloud Code."""

__version__ = "0.1.0"

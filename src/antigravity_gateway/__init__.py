"""antigravity-gateway: OpenAI, Anthropic and Gemini APIs served from Google Cloud Code accounts."""

__version__ = "0.1.0"

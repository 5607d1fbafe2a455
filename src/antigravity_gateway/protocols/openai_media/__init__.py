"""OpenAI's Images and Audio APIs: request fields -> hub requests, answers -> OpenAI's JSON."""

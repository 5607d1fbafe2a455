"""The hub: neutral request/response model, stream events and SSE framing. Imports nothing else."""

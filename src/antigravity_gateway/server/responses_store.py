"""A bounded in-memory store of answered Responses, for `previous_response_id` and retrieval.

Keeps the newest `capacity` responses (the oldest is forgotten first) as the conversation so far
plus the response object sent. Nothing goes to disk: a restart forgets them, as the 400 for an
unknown id says. One store per app, created with the routes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..protocols.openai_responses.inbound import History


@dataclass(frozen=True, slots=True)
class Stored:
    """One answered response: the conversation so far and the body sent."""

    history: History  # the conversation up to and including this response
    body: dict[str, Any]  # the response object as the client got it


class ResponsesStore:
    """The newest `capacity` answered responses by id, in memory."""

    def __init__(self, capacity: int = 200) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, response_id: str) -> Stored | None:
        return self._items.get(response_id)

    def put(self, response_id: str, stored: Stored) -> None:
        self._items[response_id] = stored
        self._items.move_to_end(response_id)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

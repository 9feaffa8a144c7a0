"""One error type for every mistake in a user's input, with its parts kept apart.

An :class:`InputError` carries *where* (the file or flag), the *key*, the *value* and
*what is allowed*, and prints them as one line::

    scenarios/baseline.toml: customers.initial_trust = 1.5: expected a number >= 0 and <= 1

Code that checks a value raises it without a source; the loader that read the file
adds the source once, with :meth:`InputError.at`. Nothing re-parses a message.
"""

from __future__ import annotations

import copy
from typing import Any, Self

__all__ = ["NO_VALUE", "InputError"]


class _NoValue:
    """Marks an error about a key as a whole (unknown, missing), not about a value."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


class InputError(ValueError):
    """A user's input is not valid: where, which key, which value, and what is allowed.

    ``expected`` completes "expected ..."; ``reason`` is a free sentence used instead
    when the problem is not a value outside a range (an unknown key, a shadowed key).
    """

    def __init__(
        self,
        key: str = "",
        value: Any = NO_VALUE,
        expected: str = "",
        *,
        reason: str = "",
        source: str = "",
    ) -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.reason = reason
        self.source = source
        super().__init__(str(self))

    @property
    def message(self) -> str:
        """The error without its source."""
        head = self.key if self.value is NO_VALUE else f"{self.key} = {self.value!r}"
        tail = f"expected {self.expected}" if self.expected else self.reason
        if head and tail:
            return f"{head}: {tail}"
        return head or tail

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message

    def at(self, source: str) -> Self:
        """This error located in ``source`` (a file or a flag), unless it already is."""
        if self.source or not source:
            return self
        located = copy.copy(self)
        located.source = source
        located.args = (str(located),)
        return located

"""The source article's two accountability cases, built through the services as a platform
would record them. `xinren demo` plays them; the tests check their outcomes.

Every reference gets a `tag` suffix, so the cases can be built again on the same database.
The phone misdescribed on stream is `phone`, the counterfeit bird's nest `birds_nest`; both
build with `builder`.
"""

from __future__ import annotations

from xinren.demo.stories.birds_nest import birds_nest_case
from xinren.demo.stories.builder import Builder, Case
from xinren.demo.stories.phone import phone_case

_Builder = Builder  # the name tests and the chain benchmark build extra facts with

__all__ = ["Builder", "Case", "_Builder", "birds_nest_case", "phone_case"]

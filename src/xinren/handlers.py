"""Import every module that registers timer handlers, so a runner knows them all."""


def load() -> None:
    from xinren.detect import service as detect  # noqa: F401
    from xinren.ledger import service  # noqa: F401
    from xinren.orders import service as orders  # noqa: F401
    from xinren.remedies import service as remedies  # noqa: F401
    from xinren.rules import service as rules  # noqa: F401

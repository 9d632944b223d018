"""The control plane: which stores exist, where they live, how to reach them.

Nothing here knows about orders or pages; ``backoffice`` and ``storefront``
build on it, never the other way round.
"""

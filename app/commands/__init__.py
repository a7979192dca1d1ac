"""One module per ``genulab`` subcommand; each defines ``register(subparsers)``.

``register`` adds its parser and sets ``func`` (a callable ``args -> int``) as default.
Headless commands import only ``core`` (and ``app.scene`` for the report snapshot).
"""

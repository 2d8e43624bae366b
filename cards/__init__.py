"""Card builders: one per kind of message the bot sends. Pure: no I/O."""

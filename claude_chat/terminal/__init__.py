"""The terminal chat: the REPL and piped mode, the live and plain answer views, the streaming
markdown and the region it is drawn in, key bindings, the slash-command registry, and the
text the views show."""

"""The Python side of scripts/bench (stdlib only): see that script's header."""

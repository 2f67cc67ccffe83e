"""`fanloop ARGS`, run in this process once a line arrives on standard input.

The migration tests start several of these, wait until each has imported everything and says
`ready`, then release them together with one line each, so that their start-ups really overlap.
What follows the first line on standard input is the command's own input (a console script).
"""

from __future__ import annotations

import sys

from bot.cli import build_parser, main

if __name__ == "__main__":
    build_parser()  # imports every command's module before the start
    print("ready", flush=True)
    sys.stdin.readline()
    sys.exit(main(sys.argv[1:]))

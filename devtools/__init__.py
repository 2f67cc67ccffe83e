"""fanloop's development tools, kept out of the installed package.

- `devtools.servers`: local servers speaking the Telegram Bot API and Discord's REST and gateway,
  for tests and benchmarks;
- `devtools.bench`: one module per `fanloop bench NAME`;
- `devtools.similarity`: synthetic suggestion boards and `fanloop dedup-eval`;
- `devtools.scratch`: throw-away databases for benchmarks.

`make install` installs them as the `fanloop-devtools` distribution beside fanloop; its entry
points in the `fanloop.commands` group (see `devtools.cli`) add `fanloop bench` and
`fanloop dedup-eval`.
"""

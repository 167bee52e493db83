"""The ``edgeperf`` command: one module per sub-command, each thin (parse, call, print)."""

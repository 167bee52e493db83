"""One module per part of the v1.1 check: system description, measurements, accuracy,
performance, power and compliance. Each takes the :class:`~edgeperf.submission.context.CheckContext`
and a :class:`~edgeperf.submission.findings.Reporter` for its scope, adds findings, and returns
what the walk (``edgeperf.submission.walk``) needs to decide the result."""

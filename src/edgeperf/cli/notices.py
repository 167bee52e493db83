"""How the command line shows the warnings edgeperf's packages raise.

Data-set warnings (:class:`~edgeperf.datasets.base.DatasetWarning`: images listed but missing,
utterances dropped as the reference drops them) are facts about the user's data, not about
Python code: they are printed as one ``edgeperf: warning: ...`` line on stderr, every time,
without the source location Python would add. Other warnings keep Python's usual display.
"""

from __future__ import annotations

import sys
import warnings


def install() -> None:
    """Route :class:`DatasetWarning` to one plain stderr line each; leave other warnings alone."""
    from ..datasets.base import DatasetWarning

    previous = warnings.showwarning
    if getattr(previous, "_edgeperf_notices", False):
        return  # already installed (the command line may be built more than once in a process)

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings' signature
        if issubclass(category, DatasetWarning):
            print(f"edgeperf: warning: {message}", file=sys.stderr if file is None else file)
        else:
            previous(message, category, filename, lineno, file, line)

    show._edgeperf_notices = True  # type: ignore[attr-defined]
    warnings.showwarning = show
    warnings.simplefilter("always", DatasetWarning)

"""``python -m benchmarks``: run the whole suite (see :mod:`benchmarks.runner`)."""

from __future__ import annotations

import sys

from .runner import main

sys.exit(main())

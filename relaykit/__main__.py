"""``python -m relaykit``: the ``relaykit`` command-line tool."""

import sys

from ._cli import main

sys.exit(main())

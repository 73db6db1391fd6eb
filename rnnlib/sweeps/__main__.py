"""``python -m rnnlib.sweeps``: run a sweep (see ``rnnlib.sweeps.cli``)."""
import sys

from rnnlib.sweeps.cli import main

sys.exit(main())

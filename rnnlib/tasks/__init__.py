"""Sequence tasks with a known dependency structure.

Every task samples batches and scores predictions the same way:

* ``task.sample(batch_size, generator)`` returns ``(u, target)`` with ``u`` of shape (T, B, n_in);
* ``task.loss(y, target)`` is the training loss (a scalar tensor);
* ``task.error(y, target)`` is the fraction of wrong answers (the success criterion);
* ``task.readout`` says whether the last output only (``"last"``) or every step (``"all"``) is scored.

Modules:

* ``lag``: ``LagTask``, recall the bit seen ``lag`` steps back (chapters 1, 2, 3, 5, 7)
* ``recent_past``: ``RecentPastTask``, only the last few inputs matter (chapter 5: ``answer="mean"``;
  chapter 7: ``answer="sign"``)
* ``pathological``: the six long-memory problems of Pascanu et al. (2013) (chapters 4, 5)
* ``sine``: the ncps documentation's sine example (chapter 7)
* ``plots``: an example sequence of a pathological problem

Tasks import only rnnlib's shared helpers.
"""
from rnnlib.tasks.lag import LagTask
from rnnlib.tasks.recent_past import RecentPastTask
from rnnlib.tasks.sine import SineTask

from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('lag', 'recent_past', 'pathological', 'sine', 'plots'))

__all__ = ['LagTask', 'RecentPastTask', 'SineTask']

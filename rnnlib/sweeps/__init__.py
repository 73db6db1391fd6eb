"""The experiments whose small results ship with the book, their batched trainers, and the command line.

Run one with ``python -m rnnlib.sweeps <name>`` (``--list`` names them, ``--quick`` is a smoke test);
``load(name)`` reads a shipped result.

* ``results``: the result files: ``load``, ``shipped``, ``write_json``, provenance, the registry ``SWEEPS``
* ``cli``: the command line
* ``trainer``: ``train_ensemble``, many networks each with its own update rule, at once (chapter 4)
* ``lag_sweep``: success against lag of a tanh RNN (chapters 1, 3)
* ``temporal_order``: Pascanu et al.'s Fig. 7 at CPU scale, and at lengths 50 and 100 (chapter 4)
* ``pascanu_tasks``: Pascanu et al.'s six pathological problems (chapter 4)
* ``gated_lag``: gated and orthogonal RNNs on long-range tasks (chapter 5)
* ``forgetting``: the price of remembering (chapter 5)
* ``teacher``: the LRU's linear teacher-student experiments (chapter 6)
* ``ncp_memory``: how long neural circuit policies remember (chapter 7)
* ``plots``: the figures of the sweeps' results

Sweeps may import every package below them (models, tasks, theory, remedies); only the checkers sit above.
"""
from rnnlib.sweeps.results import DATA_DIR, SWEEPS, load, shipped

from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('results', 'cli', 'trainer', 'lag_sweep', 'temporal_order', 'pascanu_tasks', 'gated_lag', 'forgetting', 'teacher', 'ncp_memory', 'plots'))

__all__ = ['DATA_DIR', 'SWEEPS', 'load', 'shipped']

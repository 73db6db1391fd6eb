"""The mathematics the chapters explain, computed.

* ``recurrence``: the recurrence as a dynamical system: trajectories, fixed points, regimes, memory (chapter 1)
* ``context_cost``: what one prediction costs with a window against a state (chapter 1)
* ``bptt``: backpropagation through time from scratch in NumPy, truncation, its cost (chapter 2)
* ``gradients``: Jacobian products through time, per-step gradient norms and Pascanu's bound (chapter 3)
* ``dynamics``: the single-unit map, its bifurcations and sensitivities (chapter 3)
* ``surface``: the error surface of a one-unit RNN and its wall (chapters 3, 4)
* ``connectivity``: how far back a model looks; the LSTM's cell path (chapters 5, 7)
* ``memory``: the curse of memory in one dimension, in closed form (chapter 6)
* ``plots``: the figures of all of the above

Theory imports models, tasks and the shared helpers, never remedies, sweeps or checkers.
"""
from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('recurrence', 'context_cost', 'bptt', 'gradients', 'dynamics', 'surface', 'connectivity', 'memory', 'plots'))

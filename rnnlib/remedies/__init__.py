"""What fixes exploding gradients, and helps with vanishing ones (chapter 4).

* ``clip``: norm and value clipping, the authors' NaN guard, and Pascanu et al.'s three initialisations
* ``regularizer``: Pascanu et al.'s vanishing-gradient regulariser Omega, as in the authors' code
* ``plots``: clipping in two dimensions, Omega's gradient ratios

Remedies import theory, models, tasks and the shared helpers.
"""
from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('clip', 'regularizer', 'plots'))

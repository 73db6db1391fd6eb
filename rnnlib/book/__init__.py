"""The book's own machinery: figure style, live widgets that also work on the static site, quoted numbers.

* ``figures``: the figure style (``use_style``, ``fig_axes``, ``COLORS``) and figures several chapters share
* ``widgets``: ``explore``: a live control in a notebook, a precomputed scrubber on the website
* ``quote``: ``quote(name, value)``: a live run's number glued into the prose (myst-nb)

The book's helpers import only the shared helpers (``device``, ``_validate``).
"""
from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('figures', 'widgets', 'quote'))

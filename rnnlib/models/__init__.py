"""The networks: each model the book trains or takes apart, written to be read.

* ``elman``: the Elman RNN in torch, ``ElmanRNN`` (chapters 1-4), its spectral radius, sigma' from the state
* ``ensemble``: ``ElmanEnsemble``, many independent Elman RNNs as one batched model, with hand-written BPTT
  (the lag sweep of chapters 1 and 3, the multi-method sweeps of chapter 4)
* ``lstm``: LSTM and GRU cells written gate by gate, checked against ``torch.nn.LSTM`` / ``torch.nn.GRU`` (chapter 5)
* ``fused``: ``FastRecurrent``, one tanh/orthogonal/LSTM/GRU network on torch's fused kernels (chapter 5's sweeps)
* ``orthogonal``: orthogonal and identity recurrences, and Jacobian products through them (chapter 5)
* ``ssm``: diagonal linear recurrences, parallel scans and the LRU (chapter 6)
* ``wiring``: which neuron may talk to which: dense, random and NCP wirings, as in ``ncps`` (chapter 7)
* ``ncp``: the LTC neuron and the CfC cell, checked against ``ncps`` (chapter 7)
* ``ltc_fused``: the LTC's fused solver as one autograd node (chapter 7, speed)
* ``plots``: drawing a wiring

Models import only rnnlib's shared helpers (``device``, ``_validate``) and each other.
"""
from rnnlib.models.elman import ElmanRNN
from rnnlib.models.ensemble import ElmanEnsemble
from rnnlib.models.lstm import GRU, LSTM
from rnnlib.models.ncp import LTC, CfC
from rnnlib.models.ssm import LRU

from rnnlib._lazy import lazy_modules

__getattr__, __dir__ = lazy_modules(__name__, ('elman', 'ensemble', 'lstm', 'fused', 'orthogonal', 'ssm', 'wiring', 'ncp', 'ltc_fused', 'plots'))

__all__ = ['CfC', 'ElmanEnsemble', 'ElmanRNN', 'GRU', 'LRU', 'LSTM', 'LTC']

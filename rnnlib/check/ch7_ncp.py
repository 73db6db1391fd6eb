"""Exercise checkers of Chapter 7 (neural circuit policies): ``check_fused_step``, ``check_count_synapses``.

Tests: ``tests/test_ncp.py`` and ``tests/test_wiring.py`` (both ways), ``tests/test_check_robust.py`` (junk answers).
"""
from __future__ import annotations

import numpy as np

from rnnlib.check.feedback import Feedback, compare_functions, _cases


def _fused_step_ref(v, dt, cm, g_leak, v_leak, g, E):
    # v' = (C/dt v + g_leak v_leak + sum_k g_k E_k) / (C/dt + g_leak + sum_k g_k)
    return (cm / dt * v + g_leak * v_leak + np.sum(g * E)) / (cm / dt + g_leak + np.sum(g))


def _fused_step_case(rng):
    k = int(rng.integers(1, 6))
    return (float(rng.uniform(-1, 1)), float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.3, 1.5)),
            float(rng.uniform(0.1, 2.0)), float(rng.uniform(-0.3, 0.3)), rng.uniform(0.0, 3.0, k),
            rng.choice([-1.0, 1.0], k))


def check_fused_step(fn) -> Feedback:
    """Exercise: one fused semi-implicit Euler step of one LTC neuron,
    v' = (C/dt v + g_leak v_leak + sum_k g_k E_k) / (C/dt + g_leak + sum_k g_k)."""
    hints = [
        (lambda v, dt, cm, gl, vl, g, E: v + dt / cm * (gl * (vl - v) + np.sum(g * (E - v))),
         "That is the explicit Euler step. The fused step treats the decay implicitly: solve "
         "C (v' - v)/dt = g_leak (v_leak - v') + sum g (E - v') for v'."),
        (lambda v, dt, cm, gl, vl, g, E: (cm * v + gl * vl + np.sum(g * E)) / (cm + gl + np.sum(g)),
         "The capacitance must be divided by the step: the weight of the old state is C/dt (`cm / dt`), not C."),
        (lambda v, dt, cm, gl, vl, g, E: (cm * dt * v + gl * vl + np.sum(g * E)) / (cm * dt + gl + np.sum(g)),
         "The capacitance must be divided by the step, not multiplied: the weight of the old state is C/dt "
         "(`cm / dt`), from C (v' - v) / dt on the left-hand side."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + np.sum(g * E)) / (cm / dt + np.sum(g)),
         "The leak is missing: add g_leak v_leak above and g_leak below."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g * E)) / (cm / dt + np.sum(g)),
         "The leak is missing from the denominator: the leak term g_leak (v_leak - v') contains v', so after "
         "collecting the v' terms the denominator is C/dt + g_leak + sum_k g_k. Check: with no synapses and a "
         "very long step, v' must tend to v_leak."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + np.sum(g * E)) / (cm / dt + gl + np.sum(g)),
         "The leak's pull g_leak v_leak is missing from the numerator: the leak term g_leak (v_leak - v') gives "
         "g_leak v_leak above and g_leak below. Check: with no synapses and a very long step, v' must tend to v_leak."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g * E)) / (cm / dt + gl),
         "The synaptic conductances belong in the denominator too (sum_k g_k): they pull v towards E_k."),
        (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g) * np.sum(E)) / (cm / dt + gl + np.sum(g)),
         "Each conductance pulls towards its own reversal potential: the numerator has sum_k g_k E_k, "
         "np.sum(g * E), not np.sum(g) * np.sum(E)."),
    ]
    return compare_functions(fn, _fused_step_ref, _cases(_fused_step_case, n=8, seed=7), name="fused_step",
                             rtol=1e-7, atol=1e-10, hints=hints)


def _count_synapses_ref(adjacency, sensory_adjacency, n_motor, n_command):
    mot = slice(0, n_motor)                              # neuron ids: [motor | command | inter]
    com = slice(n_motor, n_motor + n_command)
    inter = slice(n_motor + n_command, adjacency.shape[0])
    return _count_blocks(adjacency, sensory_adjacency, mot, com, inter)


def _count_blocks(adjacency, sensory_adjacency, mot, com, inter):
    """[sensory -> inter, inter -> command, command -> command, command -> motor] for the given id blocks."""
    A, S = np.abs(adjacency), np.abs(sensory_adjacency)
    return np.array([S[:, inter].sum(), A[inter, com].sum(), A[com, com].sum(), A[com, mot].sum()])


def _count_synapses_case(rng):
    from rnnlib.models.wiring import AutoNCP

    units = int(rng.integers(10, 30))
    out = int(rng.integers(1, 4))
    w = AutoNCP(units, out, float(rng.uniform(0.2, 0.8)), seed=int(rng.integers(0, 10**6))).build(int(rng.integers(2, 6)))
    return w.adjacency.copy(), w.sensory_adjacency.copy(), out, len(w.command_ids)


def check_count_synapses(fn) -> Feedback:
    """Exercise: count the synapses of an NCP wiring per block, as an array
    [sensory -> inter, inter -> command, command -> command, command -> motor]."""
    hints = [
        (lambda A, S, m, c: _count_synapses_ref(A.T, S, m, c),
         "Rows are the sources and columns the targets: adjacency[i, j] is the synapse i -> j."),
        (lambda A, S, m, c: np.array([S[:, m + c:].sum(), A[m + c:, m:m + c].sum(), A[m:m + c, m:m + c].sum(),
                                      A[m:m + c, :m].sum()]),
         "Inhibitory synapses are stored as -1: count |entries| (or entries != 0), do not add the signs."),
        (lambda A, S, m, c: _count_blocks(A, S, slice(len(A) - m, None), slice(len(A) - m - c, len(A) - m),
                                          slice(0, len(A) - m - c)),   # ids read as [inter | command | motor]
         "The neurons are numbered [motor | command | inter], motor first: motor ids are 0 .. n_motor - 1, "
         "command ids the next n_command, inter neurons the rest."),
        (lambda A, S, m, c: _count_blocks(A, S, slice(0, m), slice(m, c), slice(c, None)),
         "The command block is slice(n_motor, n_motor + n_command), not slice(n_motor, n_command): the command ids "
         "start after the motor ids, and so the inter ids start at n_motor + n_command."),
    ]
    return compare_functions(fn, _count_synapses_ref, _cases(_count_synapses_case, n=6, seed=3),
                             name="count_synapses", rtol=0, atol=0, hints=hints)

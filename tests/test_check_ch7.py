"""Chapter 7 checkers, both ways: the hints of issue 14 (the slips a reader tried).

The first tests of these checkers live beside the code they check: ``tests/test_ncp.py`` (check_fused_step) and
``tests/test_wiring.py`` (check_count_synapses).
"""
import numpy as np
import pytest

from rnnlib import check


def fused_right(v, dt, cm, g_leak, v_leak, g, E):
    return (cm / dt * v + g_leak * v_leak + np.sum(g * E)) / (cm / dt + g_leak + np.sum(g))


@pytest.mark.parametrize("wrong, needle", [
    (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g * E)) / (cm / dt + np.sum(g)),
     "leak is missing from the denominator"),
    (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + np.sum(g * E)) / (cm / dt + gl + np.sum(g)),
     "missing from the numerator"),
    (lambda v, dt, cm, gl, vl, g, E: (cm * dt * v + gl * vl + np.sum(g * E)) / (cm * dt + gl + np.sum(g)),
     "divided by the step, not multiplied"),
    (lambda v, dt, cm, gl, vl, g, E: (cm / dt * v + gl * vl + np.sum(g) * np.sum(E)) / (cm / dt + gl + np.sum(g)),
     "its own reversal potential"),
])
def test_fused_step_names_a_misplaced_leak_and_other_slips(wrong, needle):
    assert check.check_fused_step(fused_right)
    fb = check.check_fused_step(wrong)
    assert not fb and needle in fb.message, fb.message


def counts_right(adjacency, sensory_adjacency, n_motor, n_command):
    A, S = np.abs(adjacency), np.abs(sensory_adjacency)
    mot, com, inter = slice(0, n_motor), slice(n_motor, n_motor + n_command), slice(n_motor + n_command, None)
    return np.array([S[:, inter].sum(), A[inter, com].sum(), A[com, com].sum(), A[com, mot].sum()])


def counts_inter_first(adjacency, sensory_adjacency, n_motor, n_command):
    """Reads the ids as [inter | command | motor]."""
    A, S = np.abs(adjacency), np.abs(sensory_adjacency)
    n_inter = len(A) - n_motor - n_command
    inter, com, mot = slice(0, n_inter), slice(n_inter, n_inter + n_command), slice(n_inter + n_command, None)
    return np.array([S[:, inter].sum(), A[inter, com].sum(), A[com, com].sum(), A[com, mot].sum()])


def counts_command_slice_from_zero(adjacency, sensory_adjacency, n_motor, n_command):
    """Takes the command block as slice(n_motor, n_command), forgetting the offset."""
    A, S = np.abs(adjacency), np.abs(sensory_adjacency)
    mot, com, inter = slice(0, n_motor), slice(n_motor, n_command), slice(n_command, None)
    return np.array([S[:, inter].sum(), A[inter, com].sum(), A[com, com].sum(), A[com, mot].sum()])


@pytest.mark.parametrize("wrong, needle", [
    (counts_inter_first, "[motor | command | inter], motor first"),
    (counts_command_slice_from_zero, "slice(n_motor, n_motor + n_command)"),
])
def test_count_synapses_names_the_numbering_slips(wrong, needle):
    assert check.check_count_synapses(counts_right)
    fb = check.check_count_synapses(wrong)
    assert not fb and needle in fb.message, fb.message

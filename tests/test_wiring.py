"""rnnlib.models.wiring against ncps.wirings (same arguments and seeds), the NCP layer structure, drawing, bad input."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ncps.wirings as nw
from rnnlib.models import wiring as W
from rnnlib.models.plots import draw_wiring


def _same(mine, ref):
    assert mine.units == ref.units and mine.output_dim == ref.output_dim and mine.input_dim == ref.input_dim
    assert np.array_equal(mine.adjacency, ref.adjacency_matrix)
    assert np.array_equal(mine.sensory_adjacency, ref.sensory_adjacency_matrix)
    assert mine.synapse_count == ref.synapse_count
    assert mine.sensory_synapse_count == ref.sensory_synapse_count


@pytest.mark.parametrize("units, out, n_in, seed, self_conn", [(6, None, 2, 1111, True), (9, 3, 4, 5, False)])
def test_fully_connected_matches_ncps(units, out, n_in, seed, self_conn):
    ref = nw.FullyConnected(units, out, erev_init_seed=seed, self_connections=self_conn)
    ref.build(n_in)
    mine = W.FullyConnected(units, out, seed=seed, self_connections=self_conn).build(n_in)
    _same(mine, ref)
    assert mine.synapse_count == units * units - (0 if self_conn else units)


def test_polarity_laws():
    # fully connected: P(excitatory) = 2/3; NCP: 1/2 (3600 and a few hundred draws: 4 binomial sd bands)
    dense = W.FullyConnected(60, seed=0)
    assert abs((dense.adjacency == 1).mean() - 2 / 3) < 4 * np.sqrt(2 / 9 / 3600)
    ncp = W.AutoNCP(60, 5, 0.3, seed=0).build(8)
    n = ncp.synapse_count
    assert abs((ncp.adjacency == 1).sum() / n - 0.5) < 4 * np.sqrt(0.25 / n)


@pytest.mark.parametrize("units, out, sparsity, n_in, seed", [(10, 2, 0.5, 3, 1111), (15, 4, 0.8, 5, 7), (5, 1, 0.0, 2, 3)])
def test_random_sparse_matches_ncps(units, out, sparsity, n_in, seed):
    ref = nw.Random(units, out, sparsity_level=sparsity, random_seed=seed)
    ref.build(n_in)
    mine = W.RandomSparse(units, out, sparsity, seed=seed).build(n_in)
    _same(mine, ref)
    assert mine.synapse_count == round(units * units * (1 - sparsity))


@settings(max_examples=30, deadline=None)
@given(units=st.integers(5, 40), out_frac=st.floats(0.05, 0.5), sparsity=st.floats(0.1, 0.95),
       n_in=st.integers(1, 12), seed=st.integers(0, 2**31 - 1))
def test_auto_ncp_matches_ncps(units, out_frac, sparsity, n_in, seed):
    out = max(1, min(units - 3, int(out_frac * units)))
    ref = nw.AutoNCP(units, out, sparsity_level=sparsity, seed=seed)
    ref.build(n_in)
    mine = W.AutoNCP(units, out, sparsity, seed=seed).build(n_in)
    _same(mine, ref)
    sizes = W.auto_ncp_sizes(units, out, sparsity)
    assert sizes["inter"] == ref._num_inter_neurons and sizes["command"] == ref._num_command_neurons
    assert sizes["sensory_fanout"] == ref._sensory_fanout and sizes["motor_fanin"] == ref._motor_fanin
    assert sizes["recurrent_command_synapses"] == ref._recurrent_command_synapses


@settings(max_examples=30, deadline=None)
@given(inter=st.integers(2, 15), command=st.integers(2, 10), motor=st.integers(1, 5), n_in=st.integers(1, 10),
       data=st.data())
def test_ncp_layer_structure(inter, command, motor, n_in, data):
    so = data.draw(st.integers(1, inter))
    io = data.draw(st.integers(1, command))
    rec = data.draw(st.integers(0, 3 * command))
    mf = data.draw(st.integers(1, command))
    seed = data.draw(st.integers(0, 10**6))
    ref = nw.NCP(inter, command, motor, so, io, rec, mf, seed=seed)
    ref.build(n_in)
    w = W.NCP(inter, command, motor, so, io, rec, mf, seed=seed).build(n_in)
    _same(w, ref)
    A, S = np.abs(w.adjacency), np.abs(w.sensory_adjacency)
    mot, com, itr = w.motor_ids, w.command_ids, w.inter_ids
    assert w.sizes == {"inter": inter, "command": command, "motor": motor}
    # inputs reach only inter neurons; each input has exactly sensory_fanout of them; every inter neuron is fed
    assert S[:, mot + com].sum() == 0 and (S[:, itr].sum(1) >= so).all() and (S[:, itr].sum(0) >= 1).all()
    # allowed neuron -> neuron blocks: inter -> command, command -> command, command -> motor
    allowed = np.zeros_like(A)
    allowed[np.ix_(itr, com)] = allowed[np.ix_(com, com)] = allowed[np.ix_(com, mot)] = 1
    assert (A * (1 - allowed)).sum() == 0
    assert (A[np.ix_(itr, com)].sum(1) >= io).all() and (A[np.ix_(itr, com)].sum(0) >= 1).all()
    assert A[np.ix_(com, com)].sum() <= rec
    assert (A[np.ix_(com, mot)].sum(0) >= mf).all() and (A[np.ix_(com, mot)].sum(1) >= 1).all()
    assert set(np.unique(w.adjacency)) <= {-1, 0, 1}


def test_layers_types_and_from_adjacency():
    w = W.AutoNCP(16, 2, seed=1).build(3)
    assert [len(layer) for layer in w.layers] == [w.sizes["inter"], w.sizes["command"], 2]
    assert w.neuron_type(0) == "motor" and w.neuron_type(2) == "command" and w.neuron_type(15) == "inter"
    copy = W.Wiring.from_adjacency(w.adjacency, w.sensory_adjacency, 2)
    assert copy.synapse_count == w.synapse_count and copy.input_dim == 3
    assert copy.layers == [list(range(2, 16)), [0, 1]]
    dense = W.FullyConnected(16, 2).build(3)
    assert dense.density() == 1.0 and w.density() < 0.25


def test_draw_wiring_places_layers_left_to_right():
    w = W.AutoNCP(12, 2, seed=3).build(4)
    pos = W.node_positions(w)
    assert np.all(pos["sensory"][:, 0] == 0)
    assert np.all(pos["neurons"][w.inter_ids, 0] == 1) and np.all(pos["neurons"][w.motor_ids, 0] == 3)
    ax = draw_wiring(w)
    n_edges = (np.abs(w.adjacency) * (1 - np.eye(12))).sum() + w.sensory_synapse_count
    from matplotlib.collections import LineCollection
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1 and len(lines[0].get_segments()) == n_edges
    arcs = [seg for seg in lines[0].get_segments() if len(seg) > 2]       # recurrent command synapses bend
    com = np.abs(w.adjacency)[np.ix_(w.command_ids, w.command_ids)]
    assert len(arcs) == com.sum() - np.trace(com)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="units"):
        W.FullyConnected(0)
    with pytest.raises(ValueError, match="output_dim"):
        W.FullyConnected(4, 5)
    with pytest.raises(ValueError, match="sparsity"):
        W.RandomSparse(4, 2, 1.0)
    with pytest.raises(ValueError, match="output_size"):
        W.AutoNCP(5, 3)
    with pytest.raises(ValueError, match="sparsity"):
        W.AutoNCP(10, 2, sparsity=0.05)
    with pytest.raises(ValueError, match="motor_fanin"):
        W.NCP(4, 3, 2, 2, 2, 2, motor_fanin=4)
    with pytest.raises(ValueError, match="sensory_fanout"):
        W.NCP(4, 3, 2, 5, 2, 2, 2)
    with pytest.raises(ValueError, match="input_dim"):
        W.FullyConnected(4).build(2).build(3)
    with pytest.raises(ValueError, match="polarity"):
        W.Wiring(3).add_synapse(0, 1, 2)
    with pytest.raises(ValueError, match="dest"):
        W.Wiring(3).add_synapse(0, 3, 1)
    with pytest.raises(ValueError, match="build"):
        draw_wiring(W.AutoNCP(10, 2))


def test_check_count_synapses():
    from rnnlib import check

    def mine(A, S, n_motor, n_command):
        # independent count through the neuron types of an rnnlib wiring rebuilt from the matrices
        w = W.Wiring.from_adjacency(A, S, n_motor)
        types = ["motor"] * n_motor + ["command"] * n_command + ["inter"] * (A.shape[0] - n_motor - n_command)
        pairs = [("inter", "command"), ("command", "command"), ("command", "motor")]
        counts = [int(np.abs(S[:, [t == "inter" for t in types]]).sum())]
        for a, b in pairs:
            counts.append(sum(1 for i, j in zip(*np.nonzero(w.adjacency)) if types[i] == a and types[j] == b))
        return np.array(counts)

    assert check.check_count_synapses(mine)
    signed = check.check_count_synapses(lambda A, S, m, c: np.array(
        [S[:, m + c:].sum(), A[m + c:, m:m + c].sum(), A[m:m + c, m:m + c].sum(), A[m:m + c, :m].sum()]))
    assert not signed and "-1" in signed.message

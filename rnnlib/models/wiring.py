"""Wirings: which neuron may talk to which, for the LTC networks of chapter 7.

A wiring over ``units`` neurons fed by ``input_dim`` sensory inputs is two signed adjacency matrices:

* ``adjacency`` (units, units): entry [i, j] is the polarity of the synapse from neuron i to neuron j
  (+1 excitatory, -1 inhibitory, 0 no synapse);
* ``sensory_adjacency`` (input_dim, units): entry [k, j] for the synapse from input k to neuron j.

The polarity becomes the synapse's reversal potential E_ij in the LTC neuron (``rnnlib.models.ncp``), and
|adjacency| is the fixed sparsity mask. The first ``output_dim`` neurons are the motor (output) neurons.

Four constructions, following the ``ncps`` package (Lechner et al. 2020) so that the same arguments and
seeds give the same matrices (the tests check this against ``ncps.wirings``):

* :class:`FullyConnected`: every pair is a synapse, polarity -1 with probability 1/3;
* :class:`RandomSparse`: ``round(units**2 * (1 - sparsity))`` synapses drawn without replacement;
* :class:`NCP`: the layered neural circuit policy, sensory -> inter -> command -> motor, with fan-outs,
  fan-ins and recurrent command synapses;
* :func:`AutoNCP`: the NCP sizing rule that derives all layer sizes and fan-outs from ``units``,
  ``output_size`` and a sparsity level.

The matrices are drawn with NumPy a whole matrix, row or layer at a time: the same draws, in the same order, as
ncps's synapse-by-synapse loops, so a dense wiring of thousands of units builds in a fraction of a second. Seeds
follow rnnlib's one policy (an integer in [0, 2**63 - 1]); a wiring whose n^2 matrices would not fit in memory is
refused before it is allocated.

:func:`draw_wiring` draws a wiring as a layered graph with matplotlib.
"""
from __future__ import annotations

import numpy as np

from rnnlib._validate import in_range, memory_guard, positive
from rnnlib.device import check_seed

_POLARITY_FC = (-1, 1, 1)  # fully connected / random: two in three synapses excitatory
_POLARITY_NCP = (-1, 1)    # NCP: half and half


def _random_state(seed: int) -> np.random.RandomState:
    """``numpy.random.RandomState(seed)`` as ncps uses it; a seed above 2**32 - 1 (which RandomState refuses, and
    so ncps) is split into two 32-bit words, so that every seed of rnnlib's policy, [0, 2**63 - 1], works."""
    return np.random.RandomState(seed if seed < 2**32 else [seed & 0xFFFFFFFF, seed >> 32])


class Wiring:
    """A signed adjacency structure over ``units`` neurons (see the module docstring).

    ``build(input_dim)`` allocates the sensory matrix and, in subclasses, draws the sensory synapses; an
    LTC calls it with its number of inputs. ``layers`` lists the neuron ids of each layer from the input
    side to the output side (one layer for unlayered wirings).
    """

    kind = "custom"
    # bytes per neuron pair while the matrices are built: the int32 entry, plus what a subclass draws for it
    _bytes_per_pair = 4

    def __init__(self, units: int, output_dim: int | None = None):
        self.units = positive("units", units, integer=True)
        output_dim = self.units if output_dim is None else output_dim
        self.output_dim = int(in_range("output_dim", positive("output_dim", output_dim, integer=True), 1, self.units))
        memory_guard(f"a {self.kind} wiring of {self.units} units ({self.units}**2 neuron pairs)",
                     float(self.units) ** 2, bytes_per_element=self._bytes_per_pair, names="units")
        self.adjacency = np.zeros((self.units, self.units), dtype=np.int32)
        self.sensory_adjacency: np.ndarray | None = None
        self.input_dim: int | None = None

    # --- construction -------------------------------------------------------------------------------
    def is_built(self) -> bool:
        return self.input_dim is not None

    def build(self, input_dim: int) -> "Wiring":
        """Fix the number of sensory inputs (idempotent for the same value)."""
        input_dim = positive("input_dim", input_dim, integer=True)
        if self.input_dim is not None:
            if self.input_dim != input_dim:
                raise ValueError(f"input_dim must equal the {self.input_dim} this wiring was built with, got {input_dim}")
            return self
        memory_guard(f"the sensory synapses of a {self.kind} wiring ({input_dim} inputs x {self.units} units)",
                     float(input_dim) * self.units, bytes_per_element=self._bytes_per_pair, names="input_dim or units")
        self.input_dim = input_dim
        self.sensory_adjacency = np.zeros((input_dim, self.units), dtype=np.int32)
        self._build_sensory()
        return self

    def _build_sensory(self) -> None:  # subclasses draw their sensory synapses here
        pass

    def add_synapse(self, src: int, dest: int, polarity: int) -> None:
        """Set the synapse neuron ``src`` -> neuron ``dest`` to ``polarity`` in {-1, +1}."""
        in_range("src", src, 0, self.units - 1)
        in_range("dest", dest, 0, self.units - 1)
        if polarity not in (-1, 1):
            raise ValueError(f"polarity must be -1 or +1, got {polarity!r}")
        self.adjacency[src, dest] = polarity

    def add_sensory_synapse(self, src: int, dest: int, polarity: int) -> None:
        """Set the synapse input ``src`` -> neuron ``dest`` to ``polarity`` in {-1, +1}."""
        if not self.is_built():
            raise ValueError("input_dim is unknown: call build(input_dim) before adding sensory synapses")
        in_range("src", src, 0, self.input_dim - 1)
        in_range("dest", dest, 0, self.units - 1)
        if polarity not in (-1, 1):
            raise ValueError(f"polarity must be -1 or +1, got {polarity!r}")
        self.sensory_adjacency[src, dest] = polarity

    @classmethod
    def from_adjacency(cls, adjacency, sensory_adjacency, output_dim: int) -> "Wiring":
        """A wiring with the given signed matrices (for instance read from an ``ncps`` state dict)."""
        adjacency = np.sign(np.asarray(adjacency)).astype(np.int32)
        sensory_adjacency = np.sign(np.asarray(sensory_adjacency)).astype(np.int32)
        if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
            raise ValueError(f"adjacency must be a square (units, units) matrix, got shape {adjacency.shape}")
        if sensory_adjacency.ndim != 2 or sensory_adjacency.shape[1] != adjacency.shape[0]:
            raise ValueError(f"sensory_adjacency must have shape (input_dim, {adjacency.shape[0]}), "
                             f"got {sensory_adjacency.shape}")
        wiring = cls.__new__(cls)
        Wiring.__init__(wiring, adjacency.shape[0], output_dim)
        wiring.adjacency = adjacency
        wiring.input_dim = sensory_adjacency.shape[0]
        wiring.sensory_adjacency = sensory_adjacency
        return wiring

    # --- description --------------------------------------------------------------------------------
    @property
    def synapse_count(self) -> int:
        """Number of neuron -> neuron synapses."""
        return int(np.abs(self.adjacency).sum())

    @property
    def sensory_synapse_count(self) -> int:
        """Number of input -> neuron synapses (0 before ``build``)."""
        return 0 if self.sensory_adjacency is None else int(np.abs(self.sensory_adjacency).sum())

    @property
    def layers(self) -> list[list[int]]:
        """Neuron ids per layer, input side first; unlayered wirings put the motor neurons last."""
        others = list(range(self.output_dim, self.units))
        return [others, list(range(self.output_dim))] if others else [list(range(self.output_dim))]

    def neuron_type(self, i: int) -> str:
        return "motor" if i < self.output_dim else "inter"

    def density(self) -> float:
        """Fraction of the possible neuron -> neuron synapses that exist."""
        return self.synapse_count / self.units**2

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(units={self.units}, output_dim={self.output_dim}, input_dim={self.input_dim}, "
                f"synapses={self.synapse_count}, sensory_synapses={self.sensory_synapse_count})")


class FullyConnected(Wiring):
    """Every neuron pair (and every input -> neuron pair once built) is a synapse.

    Polarities are drawn in row-major order from ``numpy.random.default_rng(seed)`` with P(-1) = 1/3, as
    in ``ncps.wirings.FullyConnected(units, output_dim, erev_init_seed=seed, self_connections)``.
    """

    kind = "fully connected"
    _bytes_per_pair = 4 + 8 + 8 + 1  # the entry, the drawn index, the polarity, the diagonal mask

    def __init__(self, units: int, output_dim: int | None = None, *, seed: int = 1111, self_connections: bool = True):
        super().__init__(units, output_dim)
        if not isinstance(self_connections, (bool, np.bool_)):
            raise ValueError(f"self_connections must be True or False, got {self_connections!r}")
        self.seed = check_seed(seed)
        self._rng = np.random.default_rng(self.seed)
        # one polarity per pair in row-major order (the draws of ncps's double loop, made at once)
        if self_connections:
            self.adjacency[...] = self._rng.choice(_POLARITY_FC, size=self.adjacency.shape)
        else:
            off_diagonal = ~np.eye(self.units, dtype=bool)
            self.adjacency[off_diagonal] = self._rng.choice(_POLARITY_FC, size=self.units * (self.units - 1))

    def _build_sensory(self) -> None:
        self.sensory_adjacency[...] = self._rng.choice(_POLARITY_FC, size=self.sensory_adjacency.shape)


class RandomSparse(Wiring):
    """``round(units**2 (1 - sparsity))`` synapses chosen uniformly without replacement.

    Same draws as ``ncps.wirings.Random(units, output_dim, sparsity_level, random_seed=seed)``; that class
    draws the polarity of each sensory synapse twice and keeps the second, and so do we, so that the same
    seed gives the same matrices.
    """

    kind = "random sparse"
    _bytes_per_pair = 4 + 8 + 8 + 8  # the entry, and the index permutation, chosen pairs and polarities it draws

    def __init__(self, units: int, output_dim: int | None = None, sparsity: float = 0.0, *, seed: int = 1111):
        super().__init__(units, output_dim)
        self.sparsity = in_range("sparsity", sparsity, 0.0, 1.0, inclusive=(True, False))
        self.seed = check_seed(seed)
        self._rng = np.random.default_rng(self.seed)
        self._draw(self.adjacency, discard_first=False)

    def _draw(self, matrix: np.ndarray, *, discard_first: bool) -> None:
        """Choose ``round(size (1 - sparsity))`` entries of ``matrix`` without replacement (as ncps chooses from
        the row-major list of pairs), then one polarity per chosen entry, or two with the first discarded."""
        n = int(np.round(matrix.size * (1 - self.sparsity)))
        flat = self._rng.choice(matrix.size, size=n, replace=False)   # the same draws as choosing from the pairs
        polarity = self._rng.choice(_POLARITY_FC, size=2 * n if discard_first else n)
        matrix.reshape(-1)[flat] = polarity[1::2] if discard_first else polarity

    def _build_sensory(self) -> None:
        self._draw(self.sensory_adjacency, discard_first=True)  # the discarded first draw: see the class docstring


class NCP(Wiring):
    """Neural circuit policy wiring: sensory -> inter -> command (recurrent) -> motor.

    Neuron ids are ordered [motor | command | inter], so the motor neurons are the first ``motor``
    states (the LTC's outputs). The synapses are drawn with ``numpy.random.RandomState(seed)`` in the
    order of ``ncps.wirings.NCP``, all polarities +-1 with probability 1/2:

    1. each input -> ``sensory_fanout`` distinct inter neurons; every inter neuron left without input
       gets ``clip(int(S * sensory_fanout / inter), 1, S)`` random inputs;
    2. each inter neuron -> ``inter_fanout`` distinct command neurons; unreached command neurons get
       ``clip(int(inter * inter_fanout / command), 1, command)`` inter inputs;
    3. ``recurrent_command_synapses`` command -> command synapses, source and target drawn independently
       (a repeated pair overwrites the earlier one, so the count can come out lower);
    4. each motor neuron <- ``motor_fanin`` distinct command neurons; command neurons that reach no motor
       neuron get ``clip(int(motor * motor_fanin / command), 1, motor)`` motor targets.
    """

    kind = "NCP"

    def __init__(self, inter: int, command: int, motor: int, sensory_fanout: int, inter_fanout: int,
                 recurrent_command_synapses: int, motor_fanin: int, *, seed: int = 22222):
        inter = positive("inter", inter, integer=True)
        command = positive("command", command, integer=True)
        motor = positive("motor", motor, integer=True)
        super().__init__(inter + command + motor, motor)
        self.sensory_fanout = positive("sensory_fanout", sensory_fanout, integer=True)
        self.inter_fanout = positive("inter_fanout", inter_fanout, integer=True)
        self.recurrent_command_synapses = positive("recurrent_command_synapses", recurrent_command_synapses,
                                                   integer=True, allow_zero=True)
        self.motor_fanin = positive("motor_fanin", motor_fanin, integer=True)
        in_range("motor_fanin", motor_fanin, 1, command)
        in_range("sensory_fanout", sensory_fanout, 1, inter)
        in_range("inter_fanout", inter_fanout, 1, command)
        self.seed = check_seed(seed)
        self._rng = _random_state(self.seed)
        self.motor_ids = list(range(motor))
        self.command_ids = list(range(motor, motor + command))
        self.inter_ids = list(range(motor + command, motor + command + inter))

    @property
    def layers(self) -> list[list[int]]:
        return [self.inter_ids, self.command_ids, self.motor_ids]

    @property
    def sizes(self) -> dict:
        return {"inter": len(self.inter_ids), "command": len(self.command_ids), "motor": len(self.motor_ids)}

    def neuron_type(self, i: int) -> str:
        if i < len(self.motor_ids):
            return "motor"
        return "command" if i < len(self.motor_ids) + len(self.command_ids) else "inter"

    def _polarity(self, n: int | None = None):
        return self._rng.choice(_POLARITY_NCP, size=n)

    def _build_sensory(self) -> None:
        # The draws are ncps's, in its order; each neuron's fan-out and its polarities are set in one step.
        rng, n_in = self._rng, self.input_dim
        A, S = self.adjacency, self.sensory_adjacency
        # 1. sensory -> inter, then give every unreached inter neuron some inputs
        reached = set()
        for src in range(n_in):
            dests = rng.choice(self.inter_ids, size=self.sensory_fanout, replace=False)
            reached.update(dests.tolist())
            S[src, dests] = self._polarity(len(dests))
        fanin = int(np.clip(int(n_in * self.sensory_fanout / len(self.inter_ids)), 1, n_in))
        for dest in [d for d in self.inter_ids if d not in reached]:
            srcs = rng.choice(list(range(n_in)), size=fanin, replace=False)
            S[srcs, dest] = self._polarity(len(srcs))
        # 2. inter -> command
        reached = set()
        for src in self.inter_ids:
            dests = rng.choice(self.command_ids, size=self.inter_fanout, replace=False)
            reached.update(dests.tolist())
            A[src, dests] = self._polarity(len(dests))
        fanin = int(np.clip(int(len(self.inter_ids) * self.inter_fanout / len(self.command_ids)),
                            1, len(self.command_ids)))
        for dest in [d for d in self.command_ids if d not in reached]:
            srcs = rng.choice(self.inter_ids, size=fanin, replace=False)
            A[srcs, dest] = self._polarity(len(srcs))
        # 3. recurrent command -> command (one at a time: a repeated pair keeps its last polarity)
        for _ in range(self.recurrent_command_synapses):
            src, dest = rng.choice(self.command_ids), rng.choice(self.command_ids)
            A[src, dest] = self._polarity()
        # 4. command -> motor, then give every silent command neuron some motor targets
        active = set()
        for dest in self.motor_ids:
            srcs = rng.choice(self.command_ids, size=self.motor_fanin, replace=False)
            active.update(srcs.tolist())
            A[srcs, dest] = self._polarity(len(srcs))
        fanout = int(np.clip(int(len(self.motor_ids) * self.motor_fanin / len(self.command_ids)),
                             1, len(self.motor_ids)))
        for src in [c for c in self.command_ids if c not in active]:
            dests = rng.choice(self.motor_ids, size=fanout, replace=False)
            A[src, dests] = self._polarity(len(dests))


def auto_ncp_sizes(units: int, output_size: int, sparsity: float = 0.5) -> dict:
    """The AutoNCP sizing rule: layer sizes and fan-outs from the total neuron count.

    With density d = 1 - sparsity and m = units - output_size:
    command = max(int(0.4 m), 1), inter = m - command, sensory_fanout = max(int(inter d), 1),
    inter_fanout = motor_fanin = max(int(command d), 1), recurrent_command_synapses = max(int(2 command d), 1).
    """
    units = positive("units", units, integer=True)
    output_size = positive("output_size", output_size, integer=True)
    if output_size >= units - 2:
        raise ValueError(f"output_size must be < units - 2 = {units - 2}, got {output_size}")
    in_range("sparsity", sparsity, 0.1, 1.0)
    density = 1.0 - sparsity
    command = max(int(0.4 * (units - output_size)), 1)
    inter = units - output_size - command
    return {"inter": inter, "command": command, "motor": output_size,
            "sensory_fanout": max(int(inter * density), 1),
            "inter_fanout": max(int(command * density), 1),
            "recurrent_command_synapses": max(int(command * density * 2), 1),
            "motor_fanin": max(int(command * density), 1)}


def AutoNCP(units: int, output_size: int, sparsity: float = 0.5, *, seed: int = 22222) -> NCP:
    """An :class:`NCP` sized by :func:`auto_ncp_sizes` (as ``ncps.wirings.AutoNCP``)."""
    sizes = auto_ncp_sizes(units, output_size, sparsity)
    wiring = NCP(**sizes, seed=seed)
    wiring.sparsity = sparsity
    return wiring


def node_positions(wiring: Wiring) -> dict:
    """x, y positions for :func:`draw_wiring`: one column per layer (inputs leftmost), spread vertically.

    Returns ``{"sensory": (S, 2) array, "neurons": (units, 2) array}``.
    """
    if not wiring.is_built():
        raise ValueError("wiring must be built (call build(input_dim)) before drawing")
    columns = [list(range(wiring.input_dim))] + wiring.layers

    def spread(n):
        return np.zeros(1) if n == 1 else np.linspace(1, -1, n)

    sensory = np.stack([np.zeros(wiring.input_dim), spread(wiring.input_dim)], axis=1)
    neurons = np.zeros((wiring.units, 2))
    for x, ids in enumerate(columns[1:], start=1):
        neurons[ids, 0] = x
        neurons[ids, 1] = spread(len(ids))
    return {"sensory": sensory, "neurons": neurons}

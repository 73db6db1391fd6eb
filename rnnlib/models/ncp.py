"""Liquid time-constant (LTC) neurons and the CfC cell: the models of chapter 7 (neural circuit policies).

The LTC neuron (Hasani et al. 2021; the form of Lechner et al. 2020 that ``ncps`` implements) is a leaky
membrane with conductance-based chemical synapses. Neuron j with potential v_j obeys

    C_j dv_j/dt = g_j (v_leak,j - v_j) + sum_i w_ij s(sigma_ij (v_i - mu_ij)) (E_ij - v_j)
                                      + sum_k w^_kj s(sigma^_kj (u_k - mu^_kj)) (E^_kj - v_j),

with s the logistic sigmoid, i running over presynaptic neurons and k over sensory inputs. Writing
G_j = g_j + sum of the synaptic conductances and A_j = g_j v_leak,j + sum conductance * E, the ODE is
C dv/dt = A(v) - G(v) v: a leak whose rate G/C depends on the state, the "liquid time constant".

:class:`LTC` integrates it over each input step of length Delta t = ``timespan`` with ``ode_unfolds``
sub-steps of the fused semi-implicit Euler rule (implicit in the decay, explicit in the conductances)

    v <- (C/dt v + A(v)) / (C/dt + G(v)),        dt = Delta t / ode_unfolds,

or, for comparison, explicit Euler or classical RK4 on the same ODE (``solver=``). It loads a state dict
of ``ncps.torch.LTC`` (:meth:`LTC.from_ncps`) and then reproduces its outputs. :class:`CfC` is the
closed-form continuous-time cell of Hasani et al. (2022) in the default mode of ``ncps.torch.CfC``.
All sequences are time first: u (T, B, n_in).
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnnlib._validate import memory_guard, one_of, positive
from rnnlib.models.elman import check_state, model_input
from rnnlib.models.ltc_fused import fused_states
from rnnlib.models.wiring import FullyConnected, Wiring
from rnnlib.device import manual_seed, torch_generator

# uniform initialisation ranges of ncps (the order is the order of the draws)
INIT_RANGES = {"gleak": (0.001, 1.0), "vleak": (-0.2, 0.2), "cm": (0.4, 0.6), "sigma": (3.0, 8.0),
               "mu": (0.3, 0.8), "w": (0.001, 1.0), "sensory_sigma": (3.0, 8.0), "sensory_mu": (0.3, 0.8),
               "sensory_w": (0.001, 1.0)}
POSITIVE = ("w", "sensory_w", "cm", "gleak")
SOLVERS = ("fused", "euler", "rk4")


def fused_step(v, dt, cm, g_leak, v_leak, g, E):
    """One fused semi-implicit Euler step of C dv/dt = g_leak (v_leak - v) + sum_k g_k (E_k - v).

    ``g`` and ``E`` hold the synaptic conductances (evaluated at the current state) and reversal
    potentials along their last axis. Treating the decay implicitly and the drive explicitly,
    C (v' - v)/dt = g_leak (v_leak - v') + sum_k g_k (E_k - v'), solved for v':

        v' = (C/dt v + g_leak v_leak + sum_k g_k E_k) / (C/dt + g_leak + sum_k g_k).
    """
    dev = v.device if torch.is_tensor(v) else None        # numbers given as lists follow the state's device
    g = torch.as_tensor(g, dtype=torch.float64, device=dev) if not torch.is_tensor(g) else g
    E = torch.as_tensor(E, dtype=g.dtype, device=g.device) if not torch.is_tensor(E) else E
    cm_t = cm / dt
    return (cm_t * v + g_leak * v_leak + (g * E).sum(-1)) / (cm_t + g_leak + g.sum(-1))


class LTC(nn.Module):
    """A layer of LTC neurons wired by a :class:`rnnlib.models.wiring.Wiring` (as ``ncps.torch.LTC``).

    ``wiring`` is a Wiring or an int (a fully connected wiring whose every neuron is an output, as in
    ncps). The outputs are the first ``wiring.output_dim`` states ("motor neurons"), mapped per unit by
    ``y = v * output_w + output_b`` (``output_mapping="affine"``; ``"linear"`` drops the bias and
    ``"none"`` both); inputs are mapped by ``u * input_w + input_b`` the same way.

    Positivity of w, sensory_w, cm and gleak: ``implicit_constraints=True`` passes them through softplus
    at run time (the ``ncps.torch.LTC`` default); with ``False`` they are used as stored and
    :meth:`apply_weight_constraints` (ReLU clipping) should follow every optimiser step.

    Parameters are initialised from the ``ncps`` ranges (:data:`INIT_RANGES`) with a generator seeded by
    ``seed``, drawing in the same order as ncps: ``LTC(n_in, wiring, seed=s)`` equals an ncps LTC built
    on the same wiring right after ``torch.manual_seed(s)`` (with ``$RNNLIB_SEED_OFFSET`` unset; an offset k
    shifts ``s`` to ``s + k``, as for every seed in rnnlib).

    forward(u (T, B, n_in), h0 (B, units) or None, timespans) -> (y, h): y is (T, B, output_dim) for
    ``readout="all"`` or (B, output_dim) for ``"last"``; h is (T + 1, B, units), all states including h0.
    """

    def __init__(self, n_in: int, wiring: Wiring | int, *, ode_unfolds: int = 6, solver: str = "fused",
                 epsilon: float = 1e-8, implicit_constraints: bool = True, input_mapping: str = "affine",
                 output_mapping: str = "affine", readout: str = "all", seed: int = 0):
        super().__init__()
        n_in = positive("n_in", n_in, integer=True)
        if isinstance(wiring, (int, np.integer)) and not isinstance(wiring, bool):
            units = positive("wiring", wiring, integer=True)
            memory_guard("the LTC's synapse matrices", 6 * units * (units + n_in), names="wiring (the number of units)")
            wiring = FullyConnected(units)
        if not isinstance(wiring, Wiring):
            raise ValueError(f"wiring must be an rnnlib.models.wiring.Wiring or a number of units, got {type(wiring)}")
        memory_guard("the LTC's synapse matrices", 6 * wiring.units * (wiring.units + n_in),
                     names="the wiring's number of units")
        self.wiring = wiring.build(n_in)
        self.n_in, self.units, self.n_out = n_in, wiring.units, wiring.output_dim
        self.ode_unfolds = positive("ode_unfolds", ode_unfolds, integer=True)
        self.solver = one_of("solver", solver, SOLVERS)
        self.epsilon = positive("epsilon", epsilon, allow_zero=True)
        self.implicit_constraints = bool(implicit_constraints)
        self.input_mapping = one_of("input_mapping", input_mapping, ("affine", "linear", "none"))
        self.output_mapping = one_of("output_mapping", output_mapping, ("affine", "linear", "none"))
        self.readout = one_of("readout", readout, ("all", "last"))
        self.fast_backward = True   # fused solver with gradients: one autograd node (rnnlib.models.ltc_fused)

        gen = torch_generator(seed)
        N, S = self.units, n_in
        shapes = {"gleak": (N,), "vleak": (N,), "cm": (N,), "sigma": (N, N), "mu": (N, N), "w": (N, N),
                  "sensory_sigma": (S, N), "sensory_mu": (S, N), "sensory_w": (S, N)}
        for name in INIT_RANGES:  # same draw order as ncps (erev sits between w and sensory_sigma)
            lo, hi = INIT_RANGES[name]
            self.register_parameter(name, nn.Parameter(torch.rand(shapes[name], generator=gen) * (hi - lo) + lo))
            if name == "w":
                self.erev = nn.Parameter(torch.tensor(wiring.adjacency, dtype=torch.float32))
        self.sensory_erev = nn.Parameter(torch.tensor(wiring.sensory_adjacency, dtype=torch.float32))
        self.register_buffer("sparsity_mask", torch.tensor(abs(wiring.adjacency), dtype=torch.float32))
        self.register_buffer("sensory_sparsity_mask", torch.tensor(abs(wiring.sensory_adjacency), dtype=torch.float32))
        if self.input_mapping != "none":
            self.input_w = nn.Parameter(torch.ones(S))
        if self.input_mapping == "affine":
            self.input_b = nn.Parameter(torch.zeros(S))
        if self.output_mapping != "none":
            self.output_w = nn.Parameter(torch.ones(self.n_out))
        if self.output_mapping == "affine":
            self.output_b = nn.Parameter(torch.zeros(self.n_out))

    # --- loading ncps -------------------------------------------------------------------------------
    @classmethod
    def from_ncps(cls, model, **kwargs) -> "LTC":
        """An LTC with the wiring, settings and weights of an ``ncps.torch.LTC`` (or ``LTCCell``) ``model``,
        on the model's device and with its dtype."""
        cell = getattr(model, "rnn_cell", model)
        sd = {k: v.detach().clone() for k, v in cell.state_dict().items()}
        wiring = Wiring.from_adjacency(cell._wiring.adjacency_matrix, cell._wiring.sensory_adjacency_matrix,
                                       cell._wiring.output_dim)
        settings = dict(ode_unfolds=cell._ode_unfolds, epsilon=cell._epsilon,
                        implicit_constraints=cell._implicit_param_constraints,
                        input_mapping=cell._input_mapping if cell._input_mapping in ("affine", "linear") else "none",
                        output_mapping=cell._output_mapping if cell._output_mapping in ("affine", "linear") else "none")
        settings.update(kwargs)
        ltc = cls(wiring.input_dim, wiring, **settings)
        first = next(iter(sd.values()))
        ltc.to(device=first.device, dtype=first.dtype)         # before loading: the copy stays on that device
        ltc.load_ncps_state_dict(sd)
        return ltc

    def load_ncps_state_dict(self, state_dict: dict) -> None:
        """Load an ``ncps`` LTC/LTCCell state dict (keys with or without the ``rnn_cell.`` prefix)."""
        sd = {k.removeprefix("rnn_cell."): v for k, v in state_dict.items()}
        missing = set(self.state_dict()) - set(sd)
        if missing:
            raise ValueError(f"state_dict lacks {sorted(missing)}")
        self.load_state_dict({k: sd[k] for k in self.state_dict()})

    # --- the neuron ---------------------------------------------------------------------------------
    def _positive(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(x) if self.implicit_constraints else x

    @torch.no_grad()
    def apply_weight_constraints(self) -> None:
        """Explicit constraints: clip w, sensory_w, cm and gleak at 0 (no-op with implicit constraints)."""
        if not self.implicit_constraints:
            for name in POSITIVE:
                getattr(self, name).clamp_(min=0.0)

    def constants(self) -> dict:
        """Everything the ODE needs that does not change along a sequence (computed once per forward).

        w_e = w * mask and w_e * E are the synaptic weights without and with their reversal potential;
        sigma_mu = sigma * mu turns the gate sigma (v - mu) into one fused multiply-add per sub-step.
        """
        w = self._positive(self.w) * self.sparsity_mask
        return {"cm": self._positive(self.cm), "gleak": self._positive(self.gleak), "w": w, "w_erev": w * self.erev,
                "sigma": self.sigma, "sigma_mu": self.sigma * self.mu,
                "gleak_vleak": self._positive(self.gleak) * self.vleak,
                "sensory_w": self._positive(self.sensory_w) * self.sensory_sparsity_mask}

    def sensory_drive(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Conductance (sum of w^ s(.)) and its E-weighted sum from the mapped inputs u (..., B, n_in) -> (..., B, N)."""
        if self.input_mapping != "none":
            u = u * self.input_w
        if self.input_mapping == "affine":
            u = u + self.input_b
        act = self._positive(self.sensory_w) * self.sensory_sparsity_mask * torch.sigmoid(
            self.sensory_sigma * (u.unsqueeze(-1) - self.sensory_mu))      # (..., B, S, N)
        return act.sum(-2), (act * self.sensory_erev).sum(-2)

    @staticmethod
    def synaptic_drive(v: torch.Tensor, c: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """G_syn_j = sum_i w_ij s(sigma_ij (v_i - mu_ij)) and A_syn_j = sum_i (same) E_ij, for v (B, N)."""
        act = torch.sigmoid(torch.addcmul(-c["sigma_mu"], v.unsqueeze(-1), c["sigma"]))  # (..., B, N_pre, N_post)
        return (act * c["w"]).sum(-2), (act * c["w_erev"]).sum(-2)

    def derivative(self, v, c, g_sens, a_sens):
        """dv/dt = (A(v) - G(v) v) / C for states v (B, N), given the sensory drive of this input step."""
        g_syn, a_syn = self.synaptic_drive(v, c)
        return (c["gleak_vleak"] + a_syn + a_sens - (c["gleak"] + g_syn + g_sens) * v) / c["cm"]

    def time_constants(self, v: torch.Tensor, u_t: torch.Tensor) -> torch.Tensor:
        """The liquid time constant tau_sys = C / (g_leak + sum of open conductances), (B, N), at state v (B, N)
        and input u_t (B, n_in): the rate at which each neuron currently relaxes."""
        c = self.constants()
        g_sens, _ = self.sensory_drive(u_t)
        g_syn, _ = self.synaptic_drive(v, c)
        return c["cm"] / (c["gleak"] + g_syn + g_sens)

    def step(self, v, c, g_sens, a_sens, dt):
        """Advance v (B, N) by one input step of length ``dt`` (a float or (B, 1)) with ``ode_unfolds`` sub-steps."""
        h = dt / self.ode_unfolds
        if self.solver == "fused":
            cm_t = c["cm"] / h                                   # C / dt, constant over the sub-steps
            base_num = c["gleak_vleak"] + a_sens                 # g_leak v_leak + sensory E-weighted drive
            base_den = cm_t + c["gleak"] + g_sens + self.epsilon
            for _ in range(self.ode_unfolds):
                g_syn, a_syn = self.synaptic_drive(v, c)
                v = (cm_t * v + base_num + a_syn) / (base_den + g_syn)  # v <- (C/dt v + A) / (C/dt + G)
            return v
        for _ in range(self.ode_unfolds):
            k1 = self.derivative(v, c, g_sens, a_sens)
            if self.solver == "euler":
                v = v + h * k1                                   # v <- v + dt f(v)
                continue
            k2 = self.derivative(v + 0.5 * h * k1, c, g_sens, a_sens)
            k3 = self.derivative(v + 0.5 * h * k2, c, g_sens, a_sens)
            k4 = self.derivative(v + h * k3, c, g_sens, a_sens)
            v = v + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)          # classical RK4
        return v

    def max_rate(self) -> float:
        """The largest relaxation rate G/C any neuron can reach (every synapse fully open), per time unit.

        Explicit Euler with sub-step dt is unstable for the decay once dt * G/C > 2; this is the stiffness.
        """
        with torch.no_grad():
            c = self.constants()
            return float(((c["gleak"] + c["w"].sum(0) + c["sensory_w"].sum(0)) / c["cm"]).max())

    def with_solver(self, solver: str, ode_unfolds: int) -> "LTC":
        """A copy with the same wiring and weights that integrates with another solver or number of sub-steps,
        on this model's device and with its dtype."""
        twin = LTC(self.n_in, self.wiring, ode_unfolds=ode_unfolds, solver=solver, epsilon=self.epsilon,
                   implicit_constraints=self.implicit_constraints, input_mapping=self.input_mapping,
                   output_mapping=self.output_mapping, readout=self.readout)
        twin.to(device=self.w.device, dtype=self.w.dtype)      # before loading: the copy stays on that device
        twin.load_state_dict(self.state_dict())
        return twin

    def map_outputs(self, v: torch.Tensor) -> torch.Tensor:
        y = v[..., : self.n_out]
        if self.output_mapping != "none":
            y = y * self.output_w
        if self.output_mapping == "affine":
            y = y + self.output_b
        return y

    def states(self, u: torch.Tensor, h0: torch.Tensor | None = None, timespans=None) -> torch.Tensor:
        """All states (T + 1, B, units), h0 included (zeros by default).

        ``timespans`` is the elapsed time per input step: None (1.0), a number, or a tensor of shape (T,),
        (T, B) or (T, B, 1).
        """
        u = model_input("u", u, like=self.w, width=self.n_in, layout="(T, B, n_in)")
        T, B, _ = u.shape
        v = u.new_zeros(B, self.units) if h0 is None else check_state("h0", h0, (B, self.units), u.dtype,
                                                                      "(B, units)")
        dts = self._timespans(timespans, T, B, u)
        c = self.constants()
        g_sens, a_sens = self.sensory_drive(u)                  # (T, B, N): all input steps at once
        if self.solver == "fused" and self.fast_backward and torch.is_grad_enabled():
            # the same sub-steps as `step`, as one autograd node with a hand-written backward (ltc_fused)
            span = dts if torch.is_tensor(dts) else dts[0]      # a float, or (T, B, 1) per sample
            cm_t = c["cm"] / span * self.ode_unfolds            # C / dt: (N,), or (T, B, N) per sample
            num = c["gleak_vleak"] + a_sens                     # g_leak v_leak + sensory E-drive
            den = cm_t + c["gleak"] + g_sens + self.epsilon     # C/dt + g_leak + sensory conductance + eps
            hs = fused_states(v, cm_t, num, den, c["w"], c["w_erev"], c["sigma"], c["sigma_mu"], self.ode_unfolds)
            return torch.cat([v.unsqueeze(0), hs])
        out = [v]
        for t in range(T):
            v = self.step(v, c, g_sens[t], a_sens[t], dts[t])
            out.append(v)
        return torch.stack(out)

    @staticmethod
    def _timespans(timespans, T, B, like):
        if timespans is None:
            return [1.0] * T
        if not torch.is_tensor(timespans):
            return [float(positive("timespans", timespans))] * T
        ts = timespans.to(like)
        if ts.dim() == 1 and ts.shape[0] == T:
            ts = ts[:, None].expand(T, B)
        if ts.dim() == 2 and ts.shape == (T, B):
            ts = ts.unsqueeze(-1)
        if ts.shape != (T, B, 1):
            raise ValueError(f"timespans must have shape (T,), (T, B) or (T, B, 1) with T={T}, B={B}, "
                             f"got {tuple(timespans.shape)}")
        if not bool((ts > 0).all()):
            raise ValueError("timespans must all be > 0")
        return ts

    def forward(self, u: torch.Tensor, h0: torch.Tensor | None = None, timespans=None):
        h = self.states(u, h0, timespans)
        y = self.map_outputs(h[1:])
        return (y[-1] if self.readout == "last" else y), h

    @property
    def synapse_count(self) -> int:
        return self.wiring.synapse_count


def one_neuron(*, cm: float = 1.0, g_leak: float = 0.5, v_leak: float = 0.0, w: float = 2.0, sigma: float = 6.0,
               mu: float = 0.5, E: float = 1.0, ode_unfolds: int = 6, solver: str = "fused") -> LTC:
    """An LTC of one neuron driven by one input through one chemical synapse, with the given constants.

    C dv/dt = g_leak (v_leak - v) + w sigmoid(sigma (u - mu)) (E - v). Positivity is not re-imposed
    (``implicit_constraints=False``), so the numbers are used exactly as given. float64.
    """
    from rnnlib.models.wiring import Wiring

    positive("cm", cm)
    positive("g_leak", g_leak)
    positive("w", w, allow_zero=True)
    wiring = Wiring.from_adjacency([[0]], [[1 if E >= 0 else -1]], 1)
    model = LTC(1, wiring, ode_unfolds=ode_unfolds, solver=solver, implicit_constraints=False, epsilon=0.0).double()
    with torch.no_grad():
        for name, value in {"cm": cm, "gleak": g_leak, "vleak": v_leak, "sensory_w": w, "sensory_sigma": sigma,
                            "sensory_mu": mu, "sensory_erev": E, "w": 0.0}.items():
            getattr(model, name).fill_(value)
    return model


def solver_stability(units=(8, 16, 32, 64), unfolds=(1, 3, 6, 12), solvers=SOLVERS, *, T: int = 50,
                     batch: int = 8, seed: int = 0) -> dict:
    """max |v| over T input steps (timespan 1) of a fully connected LTC at its ncps initialisation.

    For every solver, an array (len(units), len(unfolds)); inf or nan where the solver blew up. The
    inputs are random +-1 sequences; the networks are the same for every solver (same seed).
    """
    for k in unfolds:
        positive("unfolds", k, integer=True)
    gen = torch_generator(seed)
    out = {s: torch.full((len(units), len(unfolds)), float("nan"), dtype=torch.float64) for s in solvers}
    for i, n in enumerate(units):
        u = 2.0 * torch.randint(0, 2, (T, batch, 1), generator=gen).double() - 1
        base = LTC(1, positive("units", n, integer=True), seed=seed).double()
        for j, k in enumerate(unfolds):
            for s in solvers:
                model = LTC(1, n, ode_unfolds=k, solver=s, seed=seed).double()
                model.load_state_dict(base.state_dict())
                with torch.no_grad():
                    h = model.states(u)
                out[s][i, j] = h.abs().max() if torch.isfinite(h).all() else float("inf")
    return {s: v.numpy() for s, v in out.items()}


def solver_errors(model: LTC, u: torch.Tensor, unfolds=(1, 2, 4, 8, 16, 32, 64), solvers=SOLVERS, *,
                  reference: tuple = ("rk4", 256)) -> dict:
    """max |v - v_ref| over a trajectory, for every solver and number of sub-steps per input step.

    The reference integrates the same network (same weights) with ``reference = (solver, unfolds)``;
    entries are inf where a solver blew up. Returns ``{solver: array (len(unfolds),)}``.
    """
    with torch.no_grad():
        ref = model.with_solver(*reference).states(u)
        out = {}
        for s in solvers:
            errs = []
            for k in unfolds:
                h = model.with_solver(s, k).states(u)
                errs.append(float((h - ref).abs().max()) if torch.isfinite(h).all() else float("inf"))
            out[s] = np.array(errs)
    return out


def lecun_tanh(x: torch.Tensor) -> torch.Tensor:
    """LeCun's scaled tanh, 1.7159 tanh(0.666 x): the CfC backbone's default activation."""
    return 1.7159 * torch.tanh(0.666 * x)


_ACTIVATIONS = {"lecun_tanh": lecun_tanh, "tanh": torch.tanh, "relu": torch.relu, "silu": F.silu, "gelu": F.gelu}


class CfC(nn.Module):
    """Closed-form continuous-time cell (Hasani et al. 2022), as ``ncps.torch.CfC`` (unwired).

    Per step, with z = backbone([u_t, h_{t-1}]) (``backbone_layers`` Linear layers of ``backbone_units``
    with ``activation``; none when 0) and elapsed time ts:

        f1 = tanh(W1 z + b1),  f2 = tanh(W2 z + b2),  gate = sigmoid((Wa z + ba) ts + (Wb z + bb))
        h_t = f1 (1 - gate) + gate f2            (mode "default": the time-gated interpolation)
        h_t = f1 + gate f2                       (mode "no_gate")
        h_t = A - A exp(-ts (|w_tau| + |f1'|)) f1'   (mode "pure", f1' = W1 z + b1 without tanh)

    The output is the state, or ``fc(state)`` with ``proj_size`` an integer >= 1 (``None``: no projection).
    Weights are drawn as ncps draws them (PyTorch's Linear init, then Xavier-uniform for every matrix) from the
    seed ``seed``, restoring the global random state afterwards.
    forward(u (T, B, n_in), h0, timespans) -> (y, h) like :class:`LTC`.
    """

    def __init__(self, n_in: int, units: int, *, backbone_units: int = 128, backbone_layers: int = 1,
                 activation: str = "lecun_tanh", mode: str = "default", proj_size: int | None = None,
                 readout: str = "all", seed: int = 0):
        super().__init__()
        self.n_in = positive("n_in", n_in, integer=True)
        self.units = positive("units", units, integer=True)
        positive("backbone_units", backbone_units, integer=True)
        self.backbone_layers = positive("backbone_layers", backbone_layers, integer=True, allow_zero=True)
        if proj_size is not None:       # 0 is refused, not read as "no projection": that is None
            try:
                proj_size = positive("proj_size", proj_size, integer=True)
            except ValueError:
                raise ValueError(f"proj_size must be None (no projection) or an integer >= 1, got {proj_size!r}") \
                    from None
        width = backbone_units if backbone_layers else n_in + units
        memory_guard("the CfC's weights", (n_in + units) * backbone_units * min(backbone_layers, 1)
                     + backbone_units ** 2 * max(backbone_layers - 1, 0) + 4 * width * units + units * (proj_size or 0),
                     names="units or backbone_units")
        self.activation = one_of("activation", activation, tuple(_ACTIVATIONS))
        self.mode = one_of("mode", mode, ("default", "no_gate", "pure"))
        self.readout = one_of("readout", readout, ("all", "last"))
        with torch.random.fork_rng(devices=[]):
            manual_seed(seed)
            sizes = [n_in + units] + [backbone_units] * backbone_layers
            self.backbone = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
            width = sizes[-1]
            self.ff1 = nn.Linear(width, units)
            if mode == "pure":
                self.w_tau = nn.Parameter(torch.zeros(1, units))
                self.A = nn.Parameter(torch.ones(1, units))
            else:
                self.ff2 = nn.Linear(width, units)
                self.time_a = nn.Linear(width, units)
                self.time_b = nn.Linear(width, units)
            for p in self.parameters():
                if p.dim() == 2:
                    nn.init.xavier_uniform_(p)
            self.fc = nn.Linear(units, proj_size) if proj_size is not None else None
        self.n_out = proj_size or units

    @classmethod
    def from_ncps(cls, model, **kwargs) -> "CfC":
        """A CfC with the settings and weights of an unwired ``ncps.torch.CfC`` ``model``."""
        cell = model.rnn_cell
        if not hasattr(cell, "backbone_layers"):
            raise ValueError("model must be an unwired ncps.torch.CfC (wired CfCs are not supported)")
        backbone = [m for m in (cell.backbone or []) if isinstance(m, nn.Linear)]
        act = next((m for m in (cell.backbone or []) if not isinstance(m, (nn.Linear, nn.Dropout))), None)
        names = {"LeCun": "lecun_tanh", "Tanh": "tanh", "ReLU": "relu", "SiLU": "silu", "GELU": "gelu"}
        settings = dict(backbone_units=backbone[0].out_features if backbone else 128,
                        backbone_layers=len(backbone), mode=cell.mode,
                        activation=names[type(act).__name__] if act is not None else "lecun_tanh",
                        proj_size=model.proj_size)
        settings.update(kwargs)
        cfc = cls(cell.input_size, cell.hidden_size, **settings)
        sd = {}
        for key, value in model.state_dict().items():
            key = key.removeprefix("rnn_cell.")
            if key.startswith("backbone."):
                _, index, what = key.split(".")
                key = f"backbone.{int(index) // 2}.{what}"   # ncps interleaves Linear and activation
            sd[key] = value.detach().clone()
        first = next(iter(sd.values()))
        cfc.to(device=first.device, dtype=first.dtype)         # before loading: the copy stays on that device
        cfc.load_state_dict(sd)
        return cfc

    def step(self, h: torch.Tensor, u_t: torch.Tensor, ts) -> torch.Tensor:
        """h_t from h_{t-1} (B, units), u_t (B, n_in) and the elapsed time ts (a float or (B, 1))."""
        z = torch.cat([u_t, h], dim=-1)
        act = _ACTIVATIONS[self.activation]
        for layer in self.backbone:
            z = act(layer(z))                                            # z = backbone([u_t, h_{t-1}])
        if self.mode == "pure":
            f1 = self.ff1(z)
            return self.A - self.A * torch.exp(-ts * (self.w_tau.abs() + f1.abs())) * f1
        f1, f2 = torch.tanh(self.ff1(z)), torch.tanh(self.ff2(z))
        gate = torch.sigmoid(self.time_a(z) * ts + self.time_b(z))      # sigma(t_a ts + t_b)
        if self.mode == "no_gate":
            return f1 + gate * f2
        return f1 * (1.0 - gate) + gate * f2                             # h = f1 (1 - gate) + gate f2

    def states(self, u: torch.Tensor, h0: torch.Tensor | None = None, timespans=None) -> torch.Tensor:
        """All states (T + 1, B, units), h0 included; ``timespans`` as in :meth:`LTC.states`."""
        u = model_input("u", u, like=self.ff1.weight, width=self.n_in, layout="(T, B, n_in)")
        T, B, _ = u.shape
        h = u.new_zeros(B, self.units) if h0 is None else check_state("h0", h0, (B, self.units), u.dtype,
                                                                      "(B, units)")
        dts = LTC._timespans(timespans, T, B, u)
        out = [h]
        for t in range(T):
            h = self.step(h, u[t], dts[t])
            out.append(h)
        return torch.stack(out)

    def forward(self, u: torch.Tensor, h0: torch.Tensor | None = None, timespans=None):
        h = self.states(u, h0, timespans)
        y = h[1:] if self.fc is None else self.fc(h[1:])
        return (y[-1] if self.readout == "last" else y), h

"""The LTC's fused-solver recurrence as one autograd node with a hand-written backward (chapter 7, speed).

``rnnlib.models.ncp.LTC`` runs ``T`` input steps of ``K`` fused sub-steps each. Written with ordinary torch
operations (``LTC.step``), autograd records about ten small operations per sub-step, and for the
16-neuron networks of the chapter the bookkeeping costs more than the arithmetic. :func:`fused_states`
computes the same numbers but registers a single node for the whole sequence: the forward pass runs
without recording, and the backward pass below walks the sub-steps in reverse with a dozen fused
kernels per sub-step (in-place accumulation of the parameter gradients, torch's own sigmoid
backward) and reduces over the batch once at the end. The tests check it against autograd on
``LTC.step`` and with ``torch.autograd.gradcheck``.

One sub-step, for v (B, N) and the presynaptic/postsynaptic axes i, j of the (N, N) synapse tensors:

    x_bij = S_ij v_bi - M_ij,  s = sigmoid(x),  g_bj = sum_i s_bij W0_ij,  a_bj = sum_i s_bij W1_ij
    v'_bj = (c_bj v_bj + n_bj + a_bj) / (d_bj + g_bj)

with S = sigma, M = sigma mu, W0 = w mask, W1 = W0 E, c = C/dt, n = g_leak v_leak + sensory E-drive and
d = C/dt + g_leak + sensory conductance + epsilon. With gv = dL/dv' and D = d + g, the chain rule gives

    dL/dnum = gv / D =: p,   dL/dD = -p v' =: -q,   dL/ds_bij = p_bj W1_ij - q_bj W0_ij,
    dL/dx = dL/ds * s (1 - s),   dL/dv_bi = p_bi c_bi + sum_j dL/dx_bij S_ij,
    dL/dW1 += sum_b s p,  dL/dW0 -= sum_b s q,  dL/dS += sum_b dL/dx v_i,  dL/dM -= sum_b dL/dx.
"""
from __future__ import annotations

import torch


def _reduce_to(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum ``grad`` over the axes that were broadcast from ``shape``."""
    while grad.dim() > len(shape):
        grad = grad.sum(0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis, keepdim=True)
    return grad


class _FusedLTC(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v0, c, n, d, W0, W1, S, M, K: int):
        T = n.shape[0]
        vs, ss, Ds = [v0], [], []
        v = v0
        for t in range(T):
            c_t = c[t] if c.dim() == 3 else c
            for _ in range(K):
                s = torch.sigmoid(torch.addcmul(-M, v.unsqueeze(-1), S))      # s = sigmoid(S v_i - M)
                D = d[t] + (s * W0).sum(1)                                      # d + sum_i s W0
                v = (torch.addcmul(n[t], c_t, v) + (s * W1).sum(1)) / D         # (c v + n + a) / D
                vs.append(v)
                ss.append(s)
                Ds.append(D)
        out = torch.stack(vs[K::K])                                             # (T, B, N) states after each input
        ctx.K = K
        ctx.c_is_seq = c.dim() == 3
        ctx.ss = ss                                                             # sigmoids, reused by backward
        ctx.save_for_backward(torch.stack(vs), torch.stack(Ds), c, W0, W1, S)
        ctx.shapes = (c.shape, n.shape, d.shape)
        return out

    @staticmethod
    def backward(ctx, g_out):
        vs, Ds, c, W0, W1, S = ctx.saved_tensors
        ss, K = ctx.ss, ctx.K
        TK, B, N = Ds.shape
        T = TK // K
        P = torch.empty_like(Ds)                                                # dL/dnum per sub-step
        Q = torch.empty_like(Ds)                                                # -dL/dD per sub-step
        acc_W1, acc_W0, acc_S, acc_M = (torch.zeros_like(ss[0]) for _ in range(4))   # (B, N, N) sums over sub-steps
        gv = torch.zeros_like(vs[0])
        for m in range(TK - 1, -1, -1):
            t = m // K
            if (m + 1) % K == 0:
                gv = gv + g_out[t]                                              # the output of input step t
            c_t = c[t] if ctx.c_is_seq else c
            s = ss[m]
            p = torch.div(gv, Ds[m], out=P[m])                                  # dL/dnum
            q = torch.mul(p, vs[m + 1], out=Q[m])                               # -dL/dD
            gs = torch.addcmul(W1 * p.unsqueeze(1), W0, q.unsqueeze(1), value=-1.0)   # dL/ds
            gx = torch.ops.aten.sigmoid_backward(gs, s)                         # dL/dx = dL/ds s (1 - s)
            acc_W1.addcmul_(s, p.unsqueeze(1))
            acc_W0.addcmul_(s, q.unsqueeze(1))
            acc_S.addcmul_(gx, vs[m].unsqueeze(-1))
            acc_M.add_(gx)
            gv = torch.addcmul((gx * S).sum(2), p, c_t)                         # dL/dv = p c + sum_j dL/dx S
        c_shape, n_shape, d_shape = ctx.shapes
        g_c_steps = (P * vs[:-1]).reshape(T, K, B, N).sum(1)                   # (T, B, N)
        g_c = _reduce_to(g_c_steps, c_shape) if ctx.c_is_seq else _reduce_to(g_c_steps.sum(0), c_shape)
        g_n = P.reshape(T, K, B, N).sum(1)
        g_d = -Q.reshape(T, K, B, N).sum(1)
        return (gv, g_c, _reduce_to(g_n, n_shape), _reduce_to(g_d, d_shape), -acc_W0.sum(0), acc_W1.sum(0),
                acc_S.sum(0), -acc_M.sum(0), None)


def fused_states(v0, c, n, d, W0, W1, S, M, K: int) -> torch.Tensor:
    """States after each of the T input steps, (T, B, N), of K fused sub-steps each.

    ``v0`` (B, N); ``c`` = C/dt as (N,), (B, N) or per step (T, B or 1, N); ``n`` and ``d`` (T, B, N) the
    numerator and denominator terms that are fixed during a step; ``W0``, ``W1``, ``S``, ``M`` (N, N).
    Differentiable once (no double backward).
    """
    return _FusedLTC.apply(v0, c, n, d, W0, W1, S, M, K)


# --- what a step costs, counted rather than timed ------------------------------------------------------
# Wall-clock time depends on the machine, its load and its kernels; the two counts below do not. They are
# what the chapter asserts where it prints times: the arithmetic a forward pass does, and the number of
# operations autograd records (each one is a node that the backward pass has to visit).

_MATMULS = ("mm", "addmm", "bmm", "baddbmm")
_FREE = ("view", "_unsafe_view", "reshape", "expand", "unsqueeze", "squeeze", "t", "transpose", "permute",
         "slice", "select", "as_strided", "alias", "detach", "clone", "lift_fresh", "empty", "zeros", "ones",
         "new_zeros", "new_empty", "full", "_to_copy", "copy_", "stack", "cat", "unbind", "split",
         "split_with_sizes", "contiguous", "expand_as", "view_as", "is_nonzero", "item", "_local_scalar_dense")


def operation_count(fn) -> dict:
    """Count the arithmetic of one call ``fn()``, at the level of torch's operators (no timing).

    Every multiply-add of a matrix product (``mm``, ``addmm``, ``bmm``, ``baddbmm``: M x K x N each) is
    one operation; every other arithmetic operator counts one operation per element of its largest
    operand or result (so a sum over an (N, N) tensor counts N^2). Views, copies, stacking and
    allocation are free. Returns ``{"macs": ..., "elementwise": ..., "total": ..., "by_op": {name: ops}}``.
    The count is the same on every machine, thread count and CPU kernel set.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    by_op: dict = {}

    class _Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            name = func.overloadpacket.__name__
            if name in _FREE:
                return out
            tensors = [x for x in tree_flatten((args, kwargs or {}, out))[0] if isinstance(x, torch.Tensor)]
            if name in _MATMULS:
                a, b = (args[1], args[2]) if name in ("addmm", "baddbmm") else (args[0], args[1])
                ops = a.numel() * b.shape[-1]                       # (..., M, K) @ (..., K, N): M K N
            else:
                ops = max((x.numel() for x in tensors), default=0)
            by_op[name] = by_op.get(name, 0) + ops
            return out

    with _Count():
        fn()
    macs = sum(v for k, v in by_op.items() if k in _MATMULS)
    total = sum(by_op.values())
    return {"macs": macs, "elementwise": total - macs, "total": total, "by_op": by_op}


def autograd_nodes(output: torch.Tensor) -> int:
    """The number of distinct nodes autograd recorded to compute ``output`` (its backward graph).

    Each node is visited once by the backward pass; where the arithmetic is small, their number, not the
    arithmetic, sets the time. Leaf-gradient accumulators are counted too.
    """
    if output.grad_fn is None:
        return 0
    seen, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(nxt for nxt, _ in node.next_functions)
    return len(seen)

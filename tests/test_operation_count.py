"""rnnlib.models.ltc_fused.operation_count and autograd_nodes: the deterministic costs chapter 7 asserts instead of times."""
import torch

from rnnlib.models.ltc_fused import autograd_nodes, operation_count


def test_a_matrix_product_counts_m_k_n_multiply_adds():
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    c = operation_count(lambda: a @ b)
    assert c["macs"] == 3 * 4 * 5 and c["elementwise"] == 0 and c["total"] == 60


def test_addmm_and_bmm_count_their_products_and_elementwise_ops_their_largest_tensor():
    x, w, bias = torch.randn(2, 6), torch.randn(6, 7), torch.randn(7)
    assert operation_count(lambda: torch.addmm(bias, x, w))["macs"] == 2 * 6 * 7
    p, q = torch.randn(5, 2, 3), torch.randn(5, 3, 4)
    assert operation_count(lambda: torch.bmm(p, q))["macs"] == 5 * 2 * 3 * 4
    v = torch.randn(8, 9)
    c = operation_count(lambda: torch.tanh(v) + 1.0)
    assert c["macs"] == 0 and c["elementwise"] == 2 * 72          # tanh and add, 72 elements each
    assert operation_count(lambda: v.sum())["elementwise"] == 72  # a reduction counts its input


def test_views_and_copies_are_free_and_the_count_does_not_depend_on_the_values():
    v = torch.randn(4, 4)
    assert operation_count(lambda: v.t().reshape(16).clone())["total"] == 0
    a = operation_count(lambda: torch.sigmoid(v) * v)
    b = operation_count(lambda: torch.sigmoid(v * 1e6) * v)
    assert a["by_op"]["sigmoid"] == b["by_op"]["sigmoid"] == 16


def test_autograd_nodes_counts_each_backward_node_once():
    x = torch.randn(3, requires_grad=True)
    assert autograd_nodes(x * 2) == 2                     # MulBackward and x's AccumulateGrad
    y = (x * 2).sum()
    assert autograd_nodes(y) == 3
    z = x.sin() + x.cos()                                 # two paths to the same leaf: its accumulator once
    assert autograd_nodes(z) == 4
    assert autograd_nodes(torch.randn(3)) == 0            # no graph

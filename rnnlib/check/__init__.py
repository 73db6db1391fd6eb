"""Exercise checkers: friendly, specific feedback on a reader's answer, one module per chapter.

A checker is a plain function ``check_<exercise>(answer) -> Feedback``. ``Feedback`` is truthy when the answer is
right, so a solution cell can ``assert check_xxx(answer)``; in a notebook it renders as a short coloured message
that says what is wrong and how to look for the mistake. Readers call them as ``rnnlib.check.check_<exercise>``.
A checker never raises, whatever it is handed: a wrong type, shape or value, or a crash in the reader's code,
comes back as feedback (``tests/test_check_robust.py`` feeds every checker junk).

* ``feedback``: ``Feedback``, ``compare_functions`` (a reader's function against rnnlib's on fixed random cases,
  naming typical mistakes) and ``check_value`` (a number)
* ``ch1_basics``: Chapter 1 (RNN basics): check_elman_step, check_newton_step, check_kv_cache_floats
* ``ch2_bptt``: Chapter 2 (unrolling and BPTT): check_bptt_step, check_jacobian_product, check_central_difference
* ``ch3_gradients``: Chapter 3 (exploding and vanishing gradients): check_step_jacobian, check_bifurcation_points, check_pascanu_eta
* ``ch4_clipping``: Chapter 4 (gradient clipping and the regulariser): check_clip_norm, check_omega_term
* ``ch5_gates``: Chapter 5 (LSTM, GRU and orthogonal RNNs): check_gru_step, check_forget_product (the exercise's
  ``forget_path``)
* ``ch6_ssm``: Chapter 6 (state-space models and the LRU): check_scan_combine, check_white_noise_state
* ``ch7_ncp``: Chapter 7 (neural circuit policies): check_fused_step, check_count_synapses

Checkers sit at the top of rnnlib: they may import any other package, and nothing imports them.
"""
from rnnlib.check.feedback import Feedback, check_value, compare_functions
from rnnlib.check.ch1_basics import check_elman_step, check_newton_step, check_kv_cache_floats
from rnnlib.check.ch2_bptt import check_bptt_step, check_jacobian_product, check_central_difference
from rnnlib.check.ch3_gradients import check_step_jacobian, check_bifurcation_points, check_pascanu_eta
from rnnlib.check.ch4_clipping import check_clip_norm, check_omega_term
from rnnlib.check.ch5_gates import check_gru_step, check_forget_product
from rnnlib.check.ch6_ssm import check_scan_combine, check_white_noise_state
from rnnlib.check.ch7_ncp import check_fused_step, check_count_synapses

__all__ = ["Feedback", "check_value", "compare_functions",
           "check_elman_step", "check_newton_step", "check_kv_cache_floats", "check_bptt_step", "check_jacobian_product", "check_central_difference", "check_step_jacobian", "check_bifurcation_points", "check_pascanu_eta", "check_clip_norm", "check_omega_term", "check_gru_step", "check_forget_product", "check_scan_combine", "check_white_noise_state", "check_fused_step", "check_count_synapses"]

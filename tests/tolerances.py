"""Named tolerances shared by the tests (import as ``from tolerances import ...``).

A module of its own rather than ``conftest``: several conftest.py files exist, so
``from conftest import`` would pick whichever was imported first.
"""

RTOL_FLOAT64 = 1e-6  # analytic vs reference in float64
ATOL_FLOAT64 = 1e-9
RTOL_TORCH = 1e-9  # optimizer trajectories vs torch.optim in float64
GRADCHECK = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}

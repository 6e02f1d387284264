"""``gdlab surface``: optimizers on 2-D test functions, their paths drawn and saved.

- ``functions``: the zoo of 2-D test functions (and two 1-D ones), gradients from the engine;
- ``trajectories``: run an optimizer on a function, record the path, save it as data;
- ``tuning``: each optimizer's best lr on a function, by the lab's one search protocol;
- ``animate``: the paths as a GIF;
- ``config`` / ``run``: the command's settings and ``run_surface``.

Nothing is imported here: ``lab.output.plots`` draws paths on functions, and ``run`` draws, so
importing ``run`` from here would make a cycle.
"""

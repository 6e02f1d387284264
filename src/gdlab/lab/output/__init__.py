"""What the lab's commands leave behind: run directories, figures, reports and tables.

- ``rundir``: ``RunDir``, every file of a run written atomically and deterministically;
- ``fileio``: atomic writes (from ``gdlab._atomic``) and reproducible figure files;
- ``plots``: contour plots with paths, loss curves, schedules, gradient norms (matplotlib);
- ``report``: self-contained HTML reports;
- ``tables``: plain-text tables for the terminal.
"""

"""Support for :mod:`gdlab.sklearn`: stand-ins for scikit-learn's base classes and validation,
used only when scikit-learn (the ``data`` extra) is not installed."""

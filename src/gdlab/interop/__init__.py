"""Bridges between gdlab and other frameworks.

``gdlab.interop.torch`` moves weights between gdlab and PyTorch modules and runs gdlab's
optimizers on torch tensors (:class:`~gdlab.interop.torch.TorchOptimizer`). Importing
``gdlab.interop`` itself needs nothing beyond NumPy; ``gdlab.interop.torch`` needs PyTorch
(``pip install 'gdlab[torch]'``).
"""

"""``python -m lasso_torch.cli``: the ``lasso-torch`` command."""

from . import main

main()

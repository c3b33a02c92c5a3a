from . import test_l10n_es

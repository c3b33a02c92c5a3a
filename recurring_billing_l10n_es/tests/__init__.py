from . import test_l10n_es
from . import test_verifactu

"""Chapter kernels of tools/build_book.py run with the core install only, as on Colab.

tools/build_book.py puts this folder first on the kernel's PYTHONPATH, so Python imports this
module at start-up, and names in ``IRN_BOOK_ONLY`` (comma-separated, from
``build_book.BOOK_ONLY``) the packages of irn's ``book`` extra and the Sphinx stack they bring.
This module makes them unimportable in the kernel: a chapter that imports one of them fails the build, as it
would fail on Colab or after a plain ``pip install irn``. The kernel itself (ipykernel, IPython)
stays importable: papermill and Colab both provide one.
"""

import importlib.abc
import os
import sys

BOOK_ONLY = frozenset(filter(None, os.environ.get("IRN_BOOK_ONLY", "").split(",")))


class BookExtraBlocker(importlib.abc.MetaPathFinder):
    """Refuses every module of ``BOOK_ONLY`` with the error a missing package gives."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BOOK_ONLY:
            raise ModuleNotFoundError(
                f"No module named {name!r} (irn's book extra is not available to chapters: they must "
                f"run with the core install, as on Colab)", name=name)
        return None


if BOOK_ONLY:
    sys.meta_path.insert(0, BookExtraBlocker())

"""mnist-desktop: the application. Qt lives only in ``_qt/``; ``core/`` is Qt-free (a test checks)."""

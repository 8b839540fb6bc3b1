"""The app's Qt-free heart: drawing -> model input, prediction, the "not a digit" verdict, attribution maps
and the user's labelled drawings. Nothing here imports Qt (tests/app/core/test_no_qt.py checks), so the
command line (``mnist-desktop predict``) and the tests use exactly what the window uses."""
